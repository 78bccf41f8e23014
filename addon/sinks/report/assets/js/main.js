// Start: totals, filters, sessions and the calls list; `#call-N` opens a call (so the back
// button and links work); Esc closes it, ← and → step through the calls shown.

function route() {
  const match = /^#call-(\d+)$/.exec(location.hash);
  if (match) renderDetail(+match[1]);
  else if (!$('#detail').hidden) closeDetail();
}

function step(by) {
  const shown = state.shown;
  if (!shown.length) return;
  const at = shown.findIndex((c) => c.i === state.selected);
  const next = shown[Math.min(shown.length - 1, Math.max(0, at + by))];
  if (next) openCall(next.i);
}

function stickyOffset() {
  document.documentElement.style.setProperty('--sticky', $('#filters').offsetHeight + 'px');
}

function boot() {
  renderTotals();
  bindFilters();
  renderSessions();
  bindCalls();
  applyFilters();
  stickyOffset();
  window.addEventListener('resize', stickyOffset);
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, select, textarea')) return;
    if (e.key === 'Escape' && !$('#detail').hidden) closeDetail();
    else if (e.key === 'ArrowRight' && state.selected != null) step(1);
    else if (e.key === 'ArrowLeft' && state.selected != null) step(-1);
    else if (e.key === '/') {
      e.preventDefault();
      $('#q').focus();
    }
  });
  route();
  document.body.dataset.ready = '1';
  performance.mark('report-ready');
}

boot();
