/** Polls /status every 2 s and re-renders the cluster section only, with textContent. */
export const SCRIPT = `
(function () {
  'use strict';
  var section = document.getElementById('cluster');
  if (!section || !window.fetch) return;

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { var el = byId(id); if (el) el.textContent = text; }
  function setBadge(id, word) {
    var el = byId(id);
    if (!el) return;
    el.textContent = word;
    el.className = badgeClass(word);
  }
  function badgeClass(word) { return 'badge badge-' + word; }
  function formatMasters(ids) { return ids.length > 0 ? ids.join(', ') : 'none yet'; }
  function formatTier(count, bytes) { return count + ' (' + formatBytes(bytes) + ')'; }
  function formatMemberCount(count) { return count + (count === 1 ? ' member' : ' members'); }
  function formatSeen(ms, self) { return self ? 'this node' : (ms / 1000).toFixed(1) + ' s ago'; }
  function formatBytes(bytes) {
    if (bytes < 1024) return bytes + ' B';
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return value.toFixed(1) + ' ' + units[unit];
  }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function memberRow(m, selfId) {
    var self = m.id === selfId;
    var alive = m.alive || self;
    var row = el('tr', undefined, self ? 'self' : '');
    row.setAttribute('data-testid', 'member-row');
    var head = el('th');
    head.scope = 'row';
    head.appendChild(el('code', m.id));
    row.appendChild(head);
    row.appendChild(el('td', String(m.keys), 'num'));
    var state = el('td');
    state.appendChild(el('span', alive ? m.state : m.state + ', silent',
      badgeClass(alive ? m.state : 'silent')));
    row.appendChild(state);
    row.appendChild(el('td', m.master ? 'master' : '\\u2013'));
    row.appendChild(el('td', formatSeen(m.lastSeenMs, self), 'num'));
    return row;
  }

  function render(s) {
    setText('node-id', s.node.id);
    setBadge('node-state', s.node.state);
    setBadge('node-role', s.node.role);
    setText('masters', formatMasters(s.masters.ids));
    setText('epoch', String(s.masters.epoch));
    setText('store-primary', formatTier(s.store.primary, s.store.primaryBytes));
    setText('store-cached', formatTier(s.store.cached, s.store.cachedBytes));
    var members = s.members.slice().sort(function (a, b) { return a.id.localeCompare(b.id); });
    setText('members-caption', formatMemberCount(members.length));
    var body = byId('members-body');
    if (body) body.replaceChildren.apply(body, members.map(function (m) {
      return memberRow(m, s.node.id);
    }));
  }

  function refresh() {
    fetch('/status', { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (s) {
        render(s);
        section.classList.remove('stale');
        setText('refreshed', 'Updated ' + new Date().toLocaleTimeString() + ', every 2 s');
      })
      .catch(function (error) {
        section.classList.add('stale');
        setText('refreshed', 'Cannot reach this node (' + error.message + '); retrying');
      })
      .then(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);
})();
`;
