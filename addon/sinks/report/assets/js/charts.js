// The session charts, inline SVG drawn from the index: tokens per turn, context size,
// cumulative cost, time to first token and duration, and the time line. Every mark of a call
// carries data-call (click opens it); incomplete calls and cache misses are marked on each chart.

const COLOR = {
  cached: '#2f6bd8',
  uncached: '#a8c3f3',
  output: '#2e9f6b',
  reasoning: '#8a56d6',
  cost: '#c47a00',
  context: '#2f6bd8',
  ttft: '#334155',
  duration: '#b8c4d6',
  bad: '#d43c3c',
  miss: '#e08a00',
  call: '#4f7fe0',
};

function chartFrame(n, title, legend) {
  const W = 560;
  const H = 170;
  const L = 58;
  const R = 10;
  const T = 28;
  const B = 20;
  const f = { W, H, L, R, T, B, pw: W - L - R, ph: H - T - B, n };
  f.band = f.pw / Math.max(n, 1);
  f.x = (i) => L + i * f.band;
  f.mid = (i) => L + (i + 0.5) * f.band;
  f.root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': title,
    preserveAspectRatio: 'xMidYMid meet',
  });
  f.root.append(svg('text', { x: L, y: 14, class: 'chart-title' }, title));
  let lx = W - R;
  for (const [label, color] of [...legend].reverse()) {
    const text = svg('text', { x: lx, y: 14, class: 'legend', 'text-anchor': 'end' }, label);
    f.root.append(text);
    lx -= label.length * 6.2 + 4;
    f.root.append(svg('rect', { x: lx - 9, y: 6, width: 9, height: 9, rx: 2, fill: color }));
    lx -= 20;
  }
  return f;
}

function yLabel(f, y, text) {
  f.root.append(svg('text', { x: f.L - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, text));
  f.root.append(svg('line', { x1: f.L, x2: f.W - f.R, y1: y, y2: y, class: 'grid' }));
}

function xLabels(f, calls) {
  const y = f.H - 5;
  if (!calls.length) return;
  const first = calls[0];
  const last = calls[calls.length - 1];
  f.root.append(svg('text', { x: f.L, y, class: 'axis' }, 'turn ' + first.turn));
  if (calls.length > 1) {
    f.root.append(
      svg('text', { x: f.W - f.R, y, class: 'axis', 'text-anchor': 'end' }, 'turn ' + last.turn),
    );
  }
}

// Incomplete calls (red ✕) and cache misses (amber ▼), where they happened.
function markers(f, calls) {
  const mark = (kind, x, call, color, glyph, title) =>
    f.root.append(
      svg(
        'g',
        { class: `marker ${kind}`, 'data-call': call },
        svg('line', { x1: x, x2: x, y1: f.T, y2: f.T + f.ph, stroke: color }),
        svg('text', { x, y: f.T - 2, 'text-anchor': 'middle', fill: color }, glyph),
        svg('title', {}, title),
      ),
    );
  calls.forEach((c, i) => {
    const x = f.mid(i);
    if (!c.ok) mark('bad', x, c.i, COLOR.bad, '✕', `turn ${c.turn}: incomplete`);
    if (c.miss) {
      mark('miss', x, c.i, COLOR.miss, '▼', `turn ${c.turn}: ${c.cache || 'cache miss'}`);
    }
  });
}

function barWidth(f) {
  return Math.max(Math.min(f.band * 0.78, 28), 0.8);
}

function chartTokens(calls) {
  const f = chartFrame(calls.length, 'Tokens per turn', [
    ['cached in', COLOR.cached],
    ['uncached in', COLOR.uncached],
    ['out', COLOR.output],
    ['reasoning', COLOR.reasoning],
  ]);
  const maxIn = Math.max(1, ...calls.map((c) => c.in || 0));
  const maxOut = Math.max(1, ...calls.map((c) => c.out || 0));
  const upper = f.ph * 0.64;
  const lower = f.ph - upper - 2;
  const y0 = f.T + upper;
  yLabel(f, f.T, fmt.tokens(maxIn) + ' in');
  yLabel(f, f.T + f.ph, fmt.tokens(maxOut) + ' out');
  f.root.append(svg('line', { x1: f.L, x2: f.W - f.R, y1: y0, y2: y0, class: 'axis-line' }));
  const w = barWidth(f);
  calls.forEach((c, i) => {
    const x = f.mid(i) - w / 2;
    const total = c.in || 0;
    const cached = Math.min(c.cr || 0, total);
    const hIn = (total / maxIn) * upper;
    const hCached = (cached / maxIn) * upper;
    const reasoning = Math.min(c.rs || 0, c.out || 0);
    const hOut = ((c.out || 0) / maxOut) * lower;
    const hReason = (reasoning / maxOut) * lower;
    const tip = [
      `turn ${c.turn}`,
      `input ${fmt.int(c.in)} (cached ${fmt.int(c.cr)}, uncached ${fmt.int(total - cached)})`,
      `output ${fmt.int(c.out)}` + (c.rs != null ? ` (reasoning ${fmt.int(c.rs)})` : ''),
    ].join('\n');
    f.root.append(
      svg(
        'g',
        { class: 'bar', 'data-call': c.i },
        svg('rect', { x, y: y0 - hIn, width: w, height: hIn - hCached, fill: COLOR.uncached }),
        svg('rect', { x, y: y0 - hCached, width: w, height: hCached, fill: COLOR.cached }),
        svg('rect', { x, y: y0 + 2, width: w, height: hOut - hReason, fill: COLOR.output }),
        svg('rect', { x, y: y0 + 2 + hOut - hReason, width: w, height: hReason, fill: COLOR.reasoning }),
        svg('title', {}, tip),
      ),
    );
  });
  markers(f, calls);
  xLabels(f, calls);
  return f.root;
}

function linePath(f, values, max) {
  let d = '';
  let open = false;
  values.forEach((v, i) => {
    if (v == null) {
      open = false;
      return;
    }
    const x = f.mid(i);
    const y = f.T + f.ph - (v / max) * f.ph;
    d += (open ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
    open = true;
  });
  return d;
}

function points(f, calls, values, max, color, label) {
  const g = svg('g', {});
  if (calls.length > 300) return g; // the line says it all; a dot per call would be noise
  calls.forEach((c, i) => {
    const v = values[i];
    if (v == null) return;
    g.append(
      svg(
        'circle',
        {
          cx: f.mid(i),
          cy: f.T + f.ph - (v / max) * f.ph,
          r: 2.6,
          fill: color,
          class: 'dot',
          'data-call': c.i,
        },
        svg('title', {}, `turn ${c.turn}: ${label(v)}`),
      ),
    );
  });
  return g;
}

function chartContext(calls) {
  const f = chartFrame(calls.length, 'Context size (input tokens)', [['context', COLOR.context]]);
  const values = calls.map((c) => c.in);
  const max = Math.max(1, ...values.map((v) => v || 0));
  yLabel(f, f.T, fmt.tokens(max));
  yLabel(f, f.T + f.ph, '0');
  f.root.append(
    svg('path', { d: linePath(f, values, max), fill: 'none', stroke: COLOR.context, 'stroke-width': 1.8 }),
  );
  f.root.append(points(f, calls, values, max, COLOR.context, (v) => fmt.int(v) + ' tokens'));
  markers(f, calls);
  xLabels(f, calls);
  return f.root;
}

function chartCost(calls) {
  const f = chartFrame(calls.length, 'Cumulative cost', [['cost', COLOR.cost]]);
  let sum = 0;
  const values = calls.map((c) => (sum += c.cost || 0));
  const max = Math.max(sum, 1e-9);
  yLabel(f, f.T, fmt.cost(sum));
  yLabel(f, f.T + f.ph, '$0');
  const line = linePath(f, values, max);
  if (line) {
    const area = `${line}L${f.mid(calls.length - 1).toFixed(1)} ${f.T + f.ph}L${f.mid(0).toFixed(1)} ${f.T + f.ph}Z`;
    f.root.append(svg('path', { d: area, fill: COLOR.cost, opacity: 0.12 }));
    f.root.append(svg('path', { d: line, fill: 'none', stroke: COLOR.cost, 'stroke-width': 1.8 }));
  }
  f.root.append(points(f, calls, values, max, COLOR.cost, (v) => fmt.cost(v) + ' so far'));
  markers(f, calls);
  xLabels(f, calls);
  return f.root;
}

function chartLatency(calls) {
  const f = chartFrame(calls.length, 'Time to first token and duration', [
    ['first token', COLOR.ttft],
    ['duration', COLOR.duration],
  ]);
  const max = Math.max(0.001, ...calls.map((c) => c.d || 0));
  yLabel(f, f.T, fmt.seconds(max));
  yLabel(f, f.T + f.ph, '0');
  const w = barWidth(f);
  const base = f.T + f.ph;
  calls.forEach((c, i) => {
    const x = f.mid(i) - w / 2;
    const hd = ((c.d || 0) / max) * f.ph;
    const ht = (Math.min(c.ttft || 0, c.d || c.ttft || 0) / max) * f.ph;
    f.root.append(
      svg(
        'g',
        { class: 'bar', 'data-call': c.i },
        svg('rect', { x, y: base - hd, width: w, height: hd, fill: COLOR.duration }),
        svg('rect', { x, y: base - ht, width: w, height: ht, fill: COLOR.ttft }),
        svg(
          'title',
          {},
          `turn ${c.turn}: first token ${fmt.seconds(c.ttft)}, duration ${fmt.seconds(c.d)}`,
        ),
      ),
    );
  });
  markers(f, calls);
  xLabels(f, calls);
  return f.root;
}

// The time line: each call from its start for its duration, parallel calls on their own lane.
// HTML rather than SVG, so its labels keep their size at any width.
function timeline(calls) {
  const LANE = 15;
  const timed = calls.filter((c) => c.t != null);
  const t0 = timed.length ? Math.min(...timed.map((c) => c.t)) : null;
  const t1 = timed.length ? Math.max(...timed.map((c) => c.t + (c.d || 0))) : null;
  const span = timed.length ? Math.max(t1 - t0, 0.001) : null;
  const ends = [];
  const box = h('div', { class: 'tl-lanes' });
  calls.forEach((c, i) => {
    const start = c.t != null ? (c.t - t0) / span : i / calls.length;
    const width = c.t != null ? (c.d || 0) / span : 1 / calls.length;
    let row = ends.findIndex((end) => end <= start + 1e-9);
    if (row < 0) row = ends.length < 6 ? ends.length : ends.indexOf(Math.min(...ends));
    ends[row] = start + width;
    const kind = !c.ok ? ' bad' : c.miss ? ' miss' : '';
    const tip = `turn ${c.turn} · ${fmt.clock(c.t)} · ${fmt.seconds(c.d)}${c.ok ? '' : ' · incomplete'}${c.miss ? ' · ' + (c.cache || 'cache miss') : ''}${c.pv ? '\n' + c.pv : ''}`;
    box.append(
      h('span', {
        class: 'tl-call' + kind,
        style: `left:${(start * 100).toFixed(3)}%;width:max(3px, ${(width * 100).toFixed(3)}%);top:${row * LANE}px`,
        dataset: { call: c.i },
        title: tip,
      }),
    );
  });
  box.style.height = Math.max(1, ends.length) * LANE + 'px';
  return h(
    'div',
    { class: 'timeline', role: 'img', 'aria-label': 'Calls on a time line' },
    box,
    h(
      'div',
      { class: 'tl-axis' },
      h('span', { text: fmt.date(t0) }),
      h('span', { text: span != null ? fmt.seconds(span) + ' from first start to last end' : 'no times recorded' }),
      h('span', { text: fmt.clock(t1) }),
    ),
  );
}
