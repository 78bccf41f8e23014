// A call in detail: the answer as rebuilt, usage, cost, timing and the cache, every error and
// warning, then the request as a person reads it, with what is new since the previous turn of
// the session marked, and the exact JSON one click away. Built when the call is opened.

const MEDIA = new Set([
  'image',
  'audio',
  'document',
  'file',
  'video',
  'image_url',
  'input_audio',
  'container_upload',
  'search_result',
  'fileData',
  'inlineData',
]);
const CLIP = 4000;

// Long text is shown up to a limit, with the rest one click away.
function clipped(text, q, limit = CLIP) {
  text = text == null ? '' : String(text);
  const box = h('span', { class: 'clip' });
  if (text.length <= limit || (q && text.toLowerCase().indexOf(q) >= limit)) {
    box.append(marked(text, q));
    return box;
  }
  box.append(marked(text.slice(0, limit), q));
  box.append(
    h('button', {
      class: 'link more',
      type: 'button',
      text: `… show all ${fmt.int(text.length)} characters`,
      onclick: () => box.replaceChildren(marked(text, q)),
    }),
  );
  return box;
}

function partHead(kind, name, extra) {
  return h('div', { class: 'part-head' }, h('span', { class: 'kind', text: kind }), name ? h('b', { text: name }) : null, extra);
}

function partView(part, q, inAnswer) {
  const [kind, text, name] = part;
  switch (kind) {
    case 'text':
      return h('div', { class: 'part text' }, clipped(text, q));
    case 'thinking': {
      const open = Boolean(inAnswer && (text.length < 1500 || (q && text.toLowerCase().includes(q))));
      return h(
        'details',
        { class: 'part thinking', open },
        h('summary', {}, 'Thinking ', h('small', { class: 'muted', text: fmt.int(text.length) + ' characters' })),
        h('div', { class: 'thinking-text' }, clipped(text, q)),
      );
    }
    case 'redacted_thinking':
      return h('div', { class: 'part muted-part' }, partHead('redacted thinking'), text);
    case 'tool_call':
      return h('div', { class: 'part tool-call' }, partHead('tool call', name || '?'), h('pre', {}, clipped(prettyMaybe(text), q, 8000)));
    case 'tool_result':
    case 'tool_error':
      return h(
        'div',
        { class: 'part tool-result' + (kind === 'tool_error' ? ' tool-error' : '') },
        partHead(kind === 'tool_error' ? 'tool error' : 'tool result', name),
        h('pre', {}, clipped(text, q)),
      );
    case 'refusal':
      return h('div', { class: 'part refusal' }, partHead('refusal'), h('div', {}, clipped(text, q)));
    case 'error':
      return h('div', { class: 'part error' }, partHead('error'), h('div', {}, clipped(text, q)));
    default:
      if (MEDIA.has(kind)) return h('div', { class: 'part media' }, partHead(kind.replace(/_/g, ' '), name), h('span', { text: text }));
      return h('div', { class: 'part other' }, partHead(kind.replace(/_/g, ' '), name), h('pre', {}, clipped(prettyMaybe(text), q)));
  }
}

function roleClass(role) {
  return 'role-' + String(role).toLowerCase().replace(/[^a-z]/g, '');
}

function messageView(id, k, status, q, diff) {
  const [role, parts] = blob(id);
  let badge = null;
  if (status === 'new') badge = h('span', { class: 'badge new', text: 'new' });
  if (status === 'changed') badge = h('span', { class: 'badge changed', text: `changed since turn ${diff.turn}` });
  return h(
    'div',
    { class: `msg ${roleClass(role)}${status ? ' ' + status : ''}`, dataset: { message: k } },
    h('div', { class: 'msg-head' }, h('span', { class: 'role', text: role }), h('span', { class: 'muted', text: '#' + (k + 1) }), badge),
    parts.length ? parts.map((p) => partView(p, q, false)) : h('div', { class: 'part muted-part', text: '(empty)' }),
  );
}

function hitsAny(ids, q) {
  return q && ids.some((id) => lowerOf(id).includes(q));
}

function foldedMessages(ids, from, label, q) {
  const fold = h('details', { class: 'unchanged', open: Boolean(hitsAny(ids, q)) }, h('summary', {}, label));
  const draw = () => {
    if (fold.dataset.drawn) return;
    fold.dataset.drawn = '1';
    fold.append(...ids.map((id, k) => messageView(id, from + k, null, q)));
  };
  fold.addEventListener('toggle', () => fold.open && draw());
  if (fold.open) draw();
  return fold;
}

function messagesView(c, d, q) {
  const ids = d.messages;
  const diff = d.diff;
  const box = h('div', { class: 'messages' });
  let start = 0;
  if (diff && diff.same > 0) {
    start = diff.same;
    box.append(
      foldedMessages(
        ids.slice(0, start),
        0,
        [
          `${fmt.plural(start, 'message')} unchanged since turn ${diff.turn} `,
          h('a', { href: '#call-' + diff.prev, text: `(call ${diff.prev + 1})`, onclick: (e) => e.stopPropagation() }),
        ],
        q,
      ),
    );
  } else if ((!diff || diff.fresh) && ids.length > 12) {
    start = ids.length - 6;
    box.append(foldedMessages(ids.slice(0, start), 0, `${fmt.plural(start, 'earlier message')}`, q));
  }
  for (let k = start; k < ids.length; k++) {
    let status = null;
    if (diff && !diff.fresh) status = k < diff.same + diff.changed ? 'changed' : 'new';
    box.append(messageView(ids[k], k, status, q, diff));
  }
  if (diff && diff.fresh) {
    box.prepend(h('p', { class: 'note', text: `No message in common with turn ${diff.turn} (call ${diff.prev + 1}): another conversation, or its history was rewritten.` }));
  }
  if (diff && diff.removed && !diff.fresh) {
    box.append(h('p', { class: 'note', text: `${fmt.plural(diff.removed, 'message')} of turn ${diff.turn} no longer sent (history shortened)` }));
  }
  if (!ids.length) box.append(h('p', { class: 'muted', text: 'No messages.' }));
  return box;
}

function systemView(d, q) {
  if (d.system == null) return null;
  const parts = blob(d.system);
  const length = parts.reduce((n, p) => n + p[1].length, 0);
  const changed = d.diff && d.diff.system;
  return h(
    'details',
    { class: 'system' + (changed ? ' changed' : ''), open: Boolean(length < 1500 || changed || (q && lowerOf(d.system).includes(q))) },
    h(
      'summary',
      {},
      'System prompt ',
      h('small', { class: 'muted', text: fmt.int(length) + ' characters' }),
      changed ? h('span', { class: 'badge changed', text: `changed since turn ${d.diff.turn}` }) : null,
    ),
    parts.map((p) => partView(p, q, false)),
  );
}

function toolsView(d) {
  if (!d.tools.length) return null;
  const tools = d.tools.map(blob);
  const diff = d.diff;
  const notes = [];
  if (diff) {
    if (diff.tools_added.length) notes.push('added: ' + diff.tools_added.join(', '));
    if (diff.tools_removed.length) notes.push('removed: ' + diff.tools_removed.join(', '));
    if (diff.tools_changed.length) notes.push('changed: ' + diff.tools_changed.join(', '));
  }
  const names = tools.map((t) => t[0]);
  const shownNames = names.slice(0, 8).join(', ') + (names.length > 8 ? `, … ${names.length - 8} more` : '');
  return h(
    'details',
    { class: 'tools' + (notes.length ? ' changed' : '') },
    h(
      'summary',
      {},
      `Tools (${tools.length}) `,
      h('small', { class: 'muted', text: shownNames }),
      notes.length ? h('span', { class: 'badge changed', text: `since turn ${diff.turn}: ${notes.join('; ')}` }) : null,
    ),
    tools.map(([name, kind, description, schema]) =>
      h(
        'details',
        { class: 'tool' },
        h('summary', {}, h('b', { text: name }), ' ', h('small', { class: 'muted', text: kind }), ' ', h('span', { class: 'muted', text: (description || '').split('\n')[0].slice(0, 140) })),
        description ? h('div', { class: 'tool-description', text: description }) : null,
        schema ? h('pre', { text: prettyJSON(schema) }) : null,
      ),
    ),
  );
}

function settingsView(d) {
  if (!d.settings.length) return null;
  return h('div', { class: 'settings' }, d.settings.map(([key, value]) => h('span', { class: 'setting' }, h('small', { text: key }), ' ', h('code', { text: value.length > 120 ? value.slice(0, 120) + '…' : value }))));
}

function kv(rows) {
  return h('dl', { class: 'kv' }, rows.filter(Boolean).map(([k, v, cls]) => [h('dt', { text: k }), h('dd', { class: cls || null, text: v })]));
}

function metricsView(c, d) {
  const u = d.usage || {};
  const t = d.timing || {};
  const cost = d.cost;
  const uncached = u.input_tokens != null ? u.input_tokens - (u.cache_read_tokens || 0) - (u.cache_write_tokens || 0) : null;
  const cards = [
    h(
      'div',
      { class: 'card' },
      h('h4', { text: 'Tokens' }),
      kv([
        ['input', fmt.int(u.input_tokens)],
        ['  read from cache', fmt.int(u.cache_read_tokens)],
        ['  written to cache', fmt.int(u.cache_write_tokens)],
        ['  uncached', fmt.int(uncached)],
        ['output', fmt.int(u.output_tokens)],
        ['  reasoning', fmt.int(u.reasoning_tokens)],
      ]),
    ),
    h(
      'div',
      { class: 'card' },
      h('h4', { text: cost && cost.currency ? 'Cost · ' + cost.currency : 'Cost' }),
      cost
        ? kv([
            ['total', fmt.exactCost(cost.total)],
            ['input', fmt.exactCost(cost.input)],
            ['cache read', fmt.exactCost(cost.cache_read)],
            ['cache write', fmt.exactCost(cost.cache_write)],
            ['output', fmt.exactCost(cost.output)],
            cost.other ? ['other', fmt.exactCost(cost.other)] : null,
          ])
        : h('p', { class: 'muted', text: 'not priced' }),
      cost && cost.priced_as ? h('p', { class: 'note', text: 'priced as ' + cost.priced_as }) : null,
      d.cost_reason ? h('p', { class: 'note', text: d.cost_reason }) : null,
    ),
    h(
      'div',
      { class: 'card' },
      h('h4', { text: 'Timing' }),
      kv([
        ['started', fmt.clock(t.started)],
        ['headers', fmt.seconds(t.time_to_headers)],
        ['first byte', fmt.seconds(t.time_to_first_byte)],
        ['first token', fmt.seconds(t.time_to_first_token)],
        ['duration', fmt.seconds(t.duration)],
        ['tokens/s', t.tokens_per_second == null ? '–' : String(t.tokens_per_second)],
      ]),
    ),
  ];
  const cache = d.cache || {};
  if (cache.explanation) {
    cards.push(
      h(
        'div',
        { class: 'card cache' + (c.miss ? ' miss' : '') },
        h('h4', { text: 'Prompt cache' }),
        h('p', { text: cache.explanation }),
        kv([
          ['read', fmt.int(cache.read_tokens)],
          ['written', fmt.int(cache.written_tokens)],
        ]),
      ),
    );
  }
  return h('div', { class: 'metrics' }, cards);
}

function problemsView(d) {
  const out = [];
  if (d.errors.length) out.push(h('div', { class: 'problems errors' }, h('h4', { text: fmt.plural(d.errors.length, 'error') }), h('ul', {}, d.errors.map((e) => h('li', { text: e })))));
  if (d.warnings.length) out.push(h('div', { class: 'problems warnings' }, h('h4', { text: fmt.plural(d.warnings.length, 'warning') }), h('ul', {}, d.warnings.map((e) => h('li', { text: e })))));
  if (d.unknown_events) out.push(h('p', { class: 'note', text: `${fmt.plural(d.unknown_events, 'event')} of an unknown type kept in the record` }));
  return out;
}

function answerView(c, d, q) {
  const parts = d.answer.map((p) => partView(p, q, true));
  if (!parts.length) parts.push(h('p', { class: 'muted', text: d.response == null ? 'Nothing was rebuilt.' : 'No readable parts: see the response object below.' }));
  const cites = d.citations.length
    ? h(
        'div',
        { class: 'citations' },
        h('h4', { text: `Citations (${d.citations.length})` }),
        h(
          'ol',
          {},
          d.citations.map(([title, url, text]) =>
            h('li', {}, h('b', { text: title || url || 'source' }), url && title ? h('span', { class: 'muted', text: ' ' + url }) : null, text ? h('blockquote', { text }) : null),
          ),
        ),
      )
    : null;
  return [parts, cites];
}

function headersText(d) {
  const lines = [`${d.method || ''} ${d.url || ''}`.trim()];
  for (const [k, v] of Object.entries(d.request_headers || {})) lines.push(`${k}: ${v}`);
  if (d.response_headers) {
    lines.push('', 'Response headers');
    for (const [k, v] of Object.entries(d.response_headers)) lines.push(`${k}: ${v}`);
  }
  return lines.join('\n');
}

function rawView(d) {
  const views = [
    ['Response object (API-exact)', () => (d.response == null ? 'null' : prettyJSON(blob(d.response)))],
    ['Request JSON', () => prettyJSON(requestText(d.request))],
    ['Headers', () => headersText(d)],
  ];
  if (d.extras) views.push(['Beside the response (extras)', () => prettyJSON(d.extras)]);
  const out = h('div', { class: 'raw-out' });
  const buttons = views.map(([label, make]) =>
    h('button', {
      class: 'tab',
      type: 'button',
      text: label,
      onclick: (e) => {
        const again = e.target.classList.contains('active');
        buttons.forEach((b) => b.classList.remove('active'));
        if (again) return out.replaceChildren();
        e.target.classList.add('active');
        const text = make();
        const copy = h('button', { class: 'copy', type: 'button', text: 'Copy' });
        copy.addEventListener('click', () => copyText(text, copy));
        out.replaceChildren(h('div', { class: 'raw-bar' }, h('b', { text: label }), h('small', { class: 'muted', text: fmt.int(text.length) + ' characters' }), copy), h('pre', { class: 'raw', text }));
      },
    }),
  );
  return [h('div', { class: 'tabs' }, buttons), out];
}

function neighbours(c) {
  const calls = SESSIONS[c.s].calls;
  const at = calls.indexOf(c.i);
  return [calls[at - 1], calls[at + 1]];
}

function renderDetail(i) {
  const c = CALLS[i];
  if (!c) return closeDetail();
  const d = detailOf(c);
  const s = SESSIONS[c.s];
  const q = state.q;
  state.selected = i;
  markSelected();
  const [before, after] = neighbours(c);
  const nav = (target, label, title) =>
    h('button', { class: 'nav', type: 'button', text: label, title, disabled: target == null, onclick: () => openCall(target) });
  const ok = c.code != null && c.code >= 400 ? h('span', { class: 'badge bad', text: 'HTTP ' + c.code }) : h('span', { class: 'badge ' + (c.ok ? 'ok' : 'bad'), text: c.ok ? 'complete' : 'INCOMPLETE' });
  const aside = $('#detail');
  aside.replaceChildren(
    h(
      'header',
      { class: 'detail-head' },
      h('div', { class: 'detail-title' }, h('h2', { text: `Call ${i + 1}` }), h('span', { class: 'muted', text: `${sessionName(s)} · turn ${c.turn}${c.agent ? ' · agent ' + c.agent : ''}` })),
      h('div', { class: 'detail-nav' }, nav(before, '◀', 'Previous turn of this session'), nav(after, '▶', 'Next turn of this session'), h('button', { class: 'nav close', type: 'button', text: '✕', title: 'Close (Esc)', onclick: closeDetail })),
    ),
    h(
      'div',
      { class: 'badges' },
      h('span', { class: 'badge', text: c.p }),
      c.m ? h('span', { class: 'badge model', text: c.m }) : null,
      ok,
      c.stop ? h('span', { class: 'badge', text: 'stop: ' + c.stop }) : null,
      h('span', { class: 'badge', text: d.streamed ? `streamed, ${fmt.int(d.events)} events` : 'not streamed' }),
      c.miss ? h('span', { class: 'badge miss', text: 'cache miss' }) : null,
    ),
    h('div', { class: 'problems-box' }, problemsView(d)),
    metricsView(c, d),
    h('section', { class: 'answer' }, h('h3', { text: 'Answer' }), answerView(c, d, q)),
    h(
      'section',
      { class: 'request' },
      h('h3', {}, 'Request ', h('small', { class: 'muted', text: `${d.method || ''} ${d.url || ''}` })),
      settingsView(d),
      systemView(d, q),
      toolsView(d),
      h(
        'h4',
        { class: 'context-title' },
        `Context: ${fmt.plural(d.messages.length, 'message')}`,
        d.diff && !d.diff.fresh ? h('small', { class: 'muted', text: ` · ${fmt.int(d.diff.new)} new, ${fmt.int(d.diff.changed)} changed since turn ${d.diff.turn}` }) : null,
      ),
      messagesView(c, d, q),
    ),
    h('section', { class: 'raw-section' }, h('h3', { text: 'As sent and received' }), rawView(d)),
  );
  aside.hidden = false;
  aside.scrollTop = 0;
  document.body.classList.add('with-detail');
  const first = q && aside.querySelector('mark');
  if (first) first.scrollIntoView({ block: 'center' });
}

function openCall(i) {
  if (location.hash === '#call-' + i) renderDetail(i);
  else location.hash = 'call-' + i;
}

function closeDetail() {
  state.selected = null;
  $('#detail').hidden = true;
  document.body.classList.remove('with-detail');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  markSelected();
}
