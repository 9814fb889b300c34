/**
 * The page's only script: every 2 s it fetches the cluster section as HTML (GET /ui/cluster,
 * rendered by the server's ClusterSection) and swaps it in. No formatting here: what the
 * section says is the server's. When the node does not answer, the section is greyed out
 * ("stale") and says so, and the script keeps trying. It runs under the page's CSP by hash.
 */
export const SCRIPT = `
(function () {
  'use strict';
  if (!document.getElementById('cluster') || !window.fetch) return;

  function showRefreshed(text) {
    var line = document.getElementById('refreshed');
    if (line) line.textContent = text;
  }

  function swapIn(html) {
    var template = document.createElement('template');
    template.innerHTML = html;
    var fresh = template.content.getElementById('cluster');
    if (!fresh) throw new Error('no cluster section in the answer');
    document.getElementById('cluster').replaceWith(fresh);
  }

  function refresh() {
    fetch('/ui/cluster', { cache: 'no-store', headers: { accept: 'text/html' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.text();
      })
      .then(function (html) {
        swapIn(html);
        showRefreshed('Updated ' + new Date().toLocaleTimeString() + ', every 2 s');
      })
      .catch(function (error) {
        document.getElementById('cluster').classList.add('stale');
        showRefreshed('Cannot reach this node (' + error.message + '); retrying');
      })
      .then(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);
})();
`;
