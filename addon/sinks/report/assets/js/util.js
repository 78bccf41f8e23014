// Shared helpers: DOM building (text only, never HTML from the data), number formats, and
// the page's data: the index, read at load, and blob chunks, parsed the first time one is used.

const $ = (selector, root = document) => root.querySelector(selector);

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value == null || value === false || value === '') continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? '' : value);
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Intl formatters are slow to make: one each, made once.
const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const CLOCK = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeStyle: 'medium', hour12: false });

const fmt = {
  int(n) {
    return n == null ? '–' : INTEGER.format(n);
  },
  tokens(n) {
    if (n == null) return '–';
    const a = Math.abs(n);
    if (a < 1000) return String(Math.round(n));
    if (a < 1e6) return (n / 1e3).toFixed(a < 1e4 ? 1 : 0) + 'k';
    return (n / 1e6).toFixed(a < 1e7 ? 2 : 1) + 'M';
  },
  cost(x) {
    if (x == null) return '–';
    if (x === 0) return '$0';
    if (x < 0.0001) return '<$0.0001';
    if (x < 0.01) return '$' + x.toPrecision(2);
    if (x < 100) return '$' + x.toFixed(2);
    return '$' + INTEGER.format(x);
  },
  exactCost(x) {
    return x == null ? '–' : '$' + String(x);
  },
  seconds(x) {
    if (x == null) return '–';
    if (x < 10) return x.toFixed(2) + ' s';
    if (x < 60) return x.toFixed(1) + ' s';
    const m = Math.floor(x / 60);
    if (m < 60) return `${m}m ${String(Math.round(x % 60)).padStart(2, '0')}s`;
    return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  },
  clock(epoch) {
    return epoch == null ? '–' : CLOCK.format(new Date(epoch * 1000));
  },
  date(epoch) {
    return epoch == null ? '–' : DATE.format(new Date(epoch * 1000));
  },
  short(id, n = 10) {
    const s = String(id ?? '');
    return s.length > n + 1 ? s.slice(0, n) + '…' : s;
  },
  plural(n, word, many) {
    return `${fmt.int(n)} ${n === 1 ? word : many || word + 's'}`;
  },
};

// The data ------------------------------------------------------------------------------------

const INDEX = JSON.parse(document.getElementById('index').textContent);
const CALLS = INDEX.calls;
const SESSIONS = INDEX.sessions;
const CHUNKS = INDEX.chunks;
const chunkCache = new Map();

function chunkOf(id) {
  let lo = 0;
  let hi = CHUNKS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (CHUNKS[mid] <= id) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function loadChunk(k) {
  let chunk = chunkCache.get(k);
  if (chunk === undefined) {
    const el = document.getElementById('b' + k);
    chunk = JSON.parse(el.textContent);
    el.remove(); // parsed once: the text is not needed twice in memory
    chunkCache.set(k, chunk);
  }
  return chunk;
}

function blob(id) {
  const k = chunkOf(id);
  return loadChunk(k)[id - CHUNKS[k]];
}

function loadAll() {
  for (let k = 0; k < CHUNKS.length; k++) loadChunk(k);
}

function detailOf(call) {
  return blob(call.det);
}

function requestText(pieces) {
  return pieces.map((p) => (typeof p === 'number' ? blob(p) : p)).join('');
}

function sessionName(session) {
  if (session.label) return 'session ' + fmt.short(session.label, 12);
  return [session.host || 'no host', session.client].filter(Boolean).join(' · ');
}

// Copying: the clipboard API where the browser allows it (file: pages may not), else a selection.
function copyText(text, button) {
  const done = (ok) => {
    if (!button) return;
    const was = button.textContent;
    button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
    setTimeout(() => (button.textContent = was), 1400);
  };
  const fallback = () => {
    const area = h('textarea', { class: 'copy-area', readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    area.remove();
    done(ok);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => done(true), fallback);
  } else {
    fallback();
  }
}

// Text with the search term marked, as DOM nodes (never HTML).
function marked(text, query) {
  if (!query) return document.createTextNode(text);
  const lower = text.toLowerCase();
  let at = lower.indexOf(query);
  if (at < 0) return document.createTextNode(text);
  const frag = document.createDocumentFragment();
  let from = 0;
  while (at >= 0) {
    frag.append(text.slice(from, at), h('mark', { text: text.slice(at, at + query.length) }));
    from = at + query.length;
    at = lower.indexOf(query, from);
  }
  frag.append(text.slice(from));
  return frag;
}
