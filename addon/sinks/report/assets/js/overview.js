// The overview: totals, filters and search, the session cards (charts drawn when a card comes
// into view) and the list of calls (only the rows on screen are in the DOM).

const state = {
  q: '',
  provider: '',
  model: '',
  tool: '',
  incomplete: false,
  miss: false,
  session: null,
  hits: null, // calls the search found (a Set), or null without a search
  shown: CALLS,
  selected: null,
};

function stat(label, value, title) {
  return h('span', { class: 'stat', title }, h('b', { text: value }), ' ', h('small', { text: label }));
}

function totalsStats(t, extra) {
  const cachedShare = t.input_tokens ? Math.round((100 * t.cached_tokens) / t.input_tokens) : 0;
  const span = t.start != null && t.end != null ? t.end - t.start : null;
  const out = [
    stat(t.calls === 1 ? 'call' : 'calls', fmt.int(t.calls)),
    ...(extra || []),
    stat(
      'in',
      fmt.tokens(t.input_tokens),
      `${fmt.int(t.input_tokens)} input tokens, ${fmt.int(t.cached_tokens)} of them read from the cache`,
    ),
    stat('cached', fmt.tokens(t.cached_tokens), `${cachedShare}% of the input was read from the cache`),
    stat(
      'out',
      fmt.tokens(t.output_tokens),
      `${fmt.int(t.output_tokens)} output tokens` +
        (t.reasoning_tokens ? `, ${fmt.int(t.reasoning_tokens)} of them reasoning` : ''),
    ),
    stat(
      'cost',
      fmt.cost(t.cost),
      t.unpriced ? `${fmt.plural(t.unpriced, 'call')} could not be priced` : 'genai-prices',
    ),
    stat('time', fmt.seconds(t.busy), `time in calls; ${fmt.seconds(span)} from first start to last end`),
  ];
  if (t.incomplete) out.push(h('span', { class: 'stat bad' }, h('b', { text: fmt.int(t.incomplete) }), ' ', h('small', { text: 'incomplete' })));
  if (t.errors) out.push(h('span', { class: 'stat bad' }, h('b', { text: fmt.int(t.errors) }), ' ', h('small', { text: t.errors === 1 ? 'error' : 'errors' })));
  if (t.cache_misses) out.push(h('span', { class: 'stat miss' }, h('b', { text: fmt.int(t.cache_misses) }), ' ', h('small', { text: t.cache_misses === 1 ? 'cache miss' : 'cache misses' })));
  return out;
}

function renderTotals() {
  const t = INDEX.totals;
  $('#source').textContent = [INDEX.source, INDEX.generated && 'made ' + INDEX.generated]
    .filter(Boolean)
    .join(' · ');
  $('#totals').replaceChildren(
    ...totalsStats(t, [stat(SESSIONS.length === 1 ? 'session' : 'sessions', fmt.int(SESSIONS.length))]),
  );
}

// Filters and search ------------------------------------------------------------------------

function fillSelect(select, values) {
  for (const value of values) select.append(h('option', { value, text: value }));
  if (values.length < 2) select.hidden = values.length === 0;
}

const lowerCache = new Map();

function lowerOf(id) {
  let text = lowerCache.get(id);
  if (text === undefined) {
    const value = blob(id);
    const parts = Array.isArray(value) && typeof value[0] === 'string' ? value[1] : value;
    text = (parts || []).map((p) => p[1] + (p[2] ? ' ' + p[2] : '')).join('\n').toLowerCase();
    lowerCache.set(id, text);
  }
  return text;
}

function answerLower(call, detail) {
  const key = 'a' + call.i;
  let text = lowerCache.get(key);
  if (text === undefined) {
    text = detail.answer.map((p) => p[1] + (p[2] ? ' ' + p[2] : '')).join('\n').toLowerCase();
    lowerCache.set(key, text);
  }
  return text;
}

// Which calls' answers, or prompts where the text is new, hold it: a context re-sent every
// turn would otherwise make each later turn match. Each distinct message is looked at once.
function searchCalls(query) {
  loadAll();
  const seen = new Map();
  const hit = (id) => {
    let found = seen.get(id);
    if (found === undefined) {
      found = lowerOf(id).includes(query);
      seen.set(id, found);
    }
    return found;
  };
  const hits = new Set();
  for (const call of CALLS) {
    const d = detailOf(call);
    const diff = d.diff && !d.diff.fresh ? d.diff : null;
    const fresh = diff ? d.messages.slice(diff.same) : d.messages;
    if (
      answerLower(call, d).includes(query) ||
      (d.system != null && (!diff || diff.system) && hit(d.system)) ||
      fresh.some(hit)
    ) {
      hits.add(call.i);
    }
  }
  return hits;
}

function matches(c) {
  if (state.provider && c.p !== state.provider) return false;
  if (state.model && c.m !== state.model) return false;
  if (state.tool && !c.tc.includes(state.tool)) return false;
  if (state.incomplete && c.ok) return false;
  if (state.miss && !c.miss) return false;
  if (state.session != null && c.s !== state.session) return false;
  if (state.hits && !state.hits.has(c.i)) return false;
  return true;
}

function applyFilters() {
  state.shown = CALLS.filter(matches);
  const active =
    state.q || state.provider || state.model || state.tool || state.incomplete || state.miss || state.session != null;
  $('#f-clear').hidden = !active;
  const chip = $('#f-session');
  chip.hidden = state.session == null;
  if (state.session != null) chip.textContent = sessionName(SESSIONS[state.session]) + ' ✕';
  $('#shown').textContent = active
    ? `${fmt.plural(state.shown.length, 'call')} of ${fmt.int(CALLS.length)}`
    : fmt.plural(CALLS.length, 'call');
  const visible = new Set(state.shown.map((c) => c.i));
  const sessionsWith = new Set(state.shown.map((c) => c.s));
  document.querySelectorAll('#sessions .session').forEach((card) => {
    card.hidden = !sessionsWith.has(+card.dataset.session);
  });
  document.querySelectorAll('#sessions [data-call]').forEach((el) => {
    el.classList.toggle('dim', active && !visible.has(+el.dataset.call));
  });
  $('#calls-empty').hidden = state.shown.length > 0;
  renderRows(true);
  document.dispatchEvent(new CustomEvent('report:filtered'));
}

let searchTimer = 0;

function bindFilters() {
  fillSelect($('#f-provider'), INDEX.providers);
  fillSelect($('#f-model'), INDEX.models);
  fillSelect($('#f-tool'), INDEX.tools);
  $('#q').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    const value = e.target.value;
    searchTimer = setTimeout(() => {
      state.q = value.trim().toLowerCase();
      state.hits = state.q ? searchCalls(state.q) : null;
      applyFilters();
      if (state.selected != null) renderDetail(state.selected);
    }, 160);
  });
  for (const [id, key] of [['#f-provider', 'provider'], ['#f-model', 'model'], ['#f-tool', 'tool']]) {
    $(id).addEventListener('change', (e) => {
      state[key] = e.target.value;
      applyFilters();
    });
  }
  for (const [id, key] of [['#f-incomplete', 'incomplete'], ['#f-miss', 'miss']]) {
    $(id).addEventListener('change', (e) => {
      state[key] = e.target.checked;
      applyFilters();
    });
  }
  $('#f-session').addEventListener('click', () => {
    state.session = null;
    applyFilters();
  });
  $('#f-clear').addEventListener('click', () => {
    Object.assign(state, { q: '', provider: '', model: '', tool: '', incomplete: false, miss: false, session: null, hits: null });
    $('#q').value = '';
    for (const id of ['#f-provider', '#f-model', '#f-tool']) $(id).value = '';
    for (const id of ['#f-incomplete', '#f-miss']) $(id).checked = false;
    applyFilters();
  });
}

function showSession(k) {
  state.session = k;
  applyFilters();
  $('#calls-section').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// Session cards --------------------------------------------------------------------------------

function sessionCalls(session) {
  return session.calls.map((i) => CALLS[i]);
}

function drawCard(card) {
  if (card.dataset.drawn) return;
  card.dataset.drawn = '1';
  const session = SESSIONS[+card.dataset.session];
  const calls = sessionCalls(session);
  $('.timeline-box', card).replaceChildren(timeline(calls));
  const charts = $('.charts', card);
  if (charts && !charts.hidden) drawCharts(charts, calls);
  if (state.shown !== CALLS) applyDim(card);
}

function drawCharts(box, calls) {
  if (box.dataset.drawn) return;
  box.dataset.drawn = '1';
  box.replaceChildren(
    ...[chartTokens, chartContext, chartCost, chartLatency].map((draw) => h('div', { class: 'chart-box' }, draw(calls))),
  );
}

function applyDim(root) {
  const visible = new Set(state.shown.map((c) => c.i));
  root.querySelectorAll('[data-call]').forEach((el) => el.classList.toggle('dim', !visible.has(+el.dataset.call)));
}

function sessionCard(session, k, expanded) {
  const calls = sessionCalls(session);
  const turns = calls.length > 1;
  const charts = turns ? h('div', { class: 'charts', hidden: !expanded }) : null;
  const toggle = turns
    ? h('button', {
        class: 'link charts-toggle',
        type: 'button',
        text: expanded ? 'Hide charts' : 'Show charts',
        onclick: (e) => {
          charts.hidden = !charts.hidden;
          e.target.textContent = charts.hidden ? 'Show charts' : 'Hide charts';
          if (!charts.hidden) {
            drawCharts(charts, calls);
            if (state.shown !== CALLS) applyDim(charts);
          }
        },
      })
    : null;
  const where = [session.client, session.host].filter(Boolean).join(' → ');
  return h(
    'article',
    { class: 'session', dataset: { session: k } },
    h(
      'header',
      { class: 'session-head' },
      h(
        'div',
        { class: 'session-title' },
        h('button', {
          class: 'session-name',
          type: 'button',
          title: (session.label ? session.label + '\n' : '') + 'Show only this session’s calls',
          text: sessionName(session),
          onclick: () => showSession(k),
        }),
        session.source ? h('span', { class: 'muted', text: 'id from ' + session.source }) : null,
        session.label && where ? h('span', { class: 'muted', text: where }) : null,
        toggle,
      ),
      h('div', { class: 'session-stats' }, totalsStats(session.totals)),
    ),
    h('div', { class: 'timeline-box' }),
    charts,
  );
}

let cardObserver = null;

function renderSessions() {
  const root = $('#sessions');
  root.textContent = '';
  if (!SESSIONS.length) {
    root.append(h('p', { class: 'muted empty', text: 'No LLM calls in this capture.' }));
    return;
  }
  const biggest = new Set(
    SESSIONS.map((s, k) => [s.calls.length, k])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3)
      .map(([, k]) => k),
  );
  cardObserver = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) {
          drawCard(entry.target);
          cardObserver.unobserve(entry.target);
        }
      }
    },
    { rootMargin: '300px' },
  );
  SESSIONS.forEach((session, k) => {
    const card = sessionCard(session, k, SESSIONS.length <= 6 || biggest.has(k));
    root.append(card);
    cardObserver.observe(card);
  });
  root.addEventListener('click', (e) => {
    const mark = e.target.closest('[data-call]');
    if (mark) openCall(+mark.dataset.call);
  });
}

// The calls list: a fixed row height, and only the rows in view (plus a margin) are built.

const ROW = 30;
const COLUMNS = [
  ['#', 'num'],
  ['Started', ''],
  ['Session · turn', ''],
  ['Model', ''],
  ['Status', ''],
  ['In', 'num'],
  ['Cached', 'num'],
  ['Out', 'num'],
  ['Cost', 'num'],
  ['First token', 'num'],
  ['Duration', 'num'],
  ['Answer', 'wide'],
];

function statusCell(c) {
  const out = [];
  if (c.code != null && c.code >= 400) out.push(h('span', { class: 'badge bad', text: 'HTTP ' + c.code }));
  else if (!c.ok) out.push(h('span', { class: 'badge bad', text: 'incomplete' }));
  else out.push(h('span', { class: 'badge ok', text: c.stop || 'ok' }));
  if (c.miss) out.push(h('span', { class: 'badge miss', text: 'miss', title: c.cache }));
  return out;
}

function rowOf(c, k) {
  const s = SESSIONS[c.s];
  const cells = [
    fmt.int(c.i + 1),
    fmt.clock(c.t),
    `${s.label ? fmt.short(s.label, 8) : s.host || '–'} · ${c.turn}`,
    c.m || c.p,
    statusCell(c),
    fmt.tokens(c.in),
    fmt.tokens(c.cr),
    fmt.tokens(c.out),
    fmt.cost(c.cost),
    fmt.seconds(c.ttft),
    fmt.seconds(c.d),
    c.pv,
  ];
  return h(
    'div',
    {
      class: 'row' + (c.i === state.selected ? ' selected' : '') + (c.ok ? '' : ' row-bad'),
      role: 'listitem',
      style: `transform:translateY(${k * ROW}px)`,
      dataset: { call: c.i },
      title: c.m ? `${c.p} · ${c.m}` : c.p,
    },
    cells.map((cell, j) => h('span', { class: 'cell ' + COLUMNS[j][1] }, cell)),
  );
}

// Rows stay in the DOM while they are in the window: a scroll builds only the rows it brings in.
const rowsShown = new Map();

function renderRows(force) {
  const box = $('#calls');
  const shown = state.shown;
  if (force) {
    rowsShown.clear();
    box.replaceChildren();
    box.style.height = shown.length * ROW + 'px';
  }
  const top = box.getBoundingClientRect().top;
  const first = Math.max(0, Math.floor(-top / ROW) - 8);
  const below = Math.ceil((window.innerHeight - top) / ROW) + 8;
  const last = Math.min(shown.length, Math.max(below, first + 40)); // the first rows, even below
  for (const [k, row] of rowsShown) {
    if (k < first || k >= last) {
      row.remove();
      rowsShown.delete(k);
    }
  }
  const added = [];
  for (let k = first; k < last; k++) {
    if (!rowsShown.has(k)) {
      const row = rowOf(shown[k], k);
      rowsShown.set(k, row);
      added.push(row);
    }
  }
  if (added.length) box.append(...added);
}

function markSelected() {
  for (const row of rowsShown.values()) row.classList.toggle('selected', +row.dataset.call === state.selected);
}

function renderCallsHead() {
  $('#calls-head').replaceChildren(...COLUMNS.map(([label, cls]) => h('span', { class: 'cell ' + cls, text: label })));
}

let scrollQueued = false;

function bindCalls() {
  renderCallsHead();
  $('#calls').addEventListener('click', (e) => {
    const row = e.target.closest('[data-call]');
    if (row) openCall(+row.dataset.call);
  });
  const onScroll = () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      renderRows(false);
    });
  };
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('resize', onScroll);
}
