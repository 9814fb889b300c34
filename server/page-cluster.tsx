import type { DistNode } from '../cluster/node.js';
import {
  badgeClass,
  formatMasters,
  formatMemberCount,
  formatSeen,
  formatTier,
} from './page-format.js';

/** What /status answers, which the page renders. */
export type ClusterStatus = ReturnType<DistNode['status']>;

/**
 * The cluster as this node sees it: part of the page, and alone the fragment GET /ui/cluster,
 * which the page's script fetches every 2 s and swaps in for this section.
 */
export function ClusterSection({ status }: { status: ClusterStatus }) {
  const members = [...status.members].sort((a, b) => a.id.localeCompare(b.id));
  return (
    <section class="card cluster" id="cluster" aria-labelledby="cluster-title">
      <div class="cluster-head">
        <h2 id="cluster-title">Cluster</h2>
        <p class="hint" id="refreshed" data-testid="refreshed" aria-live="off">
          As of page load
        </p>
      </div>
      <dl class="tiles">
        <div>
          <dt>This node</dt>
          <dd>
            <code id="node-id" data-testid="node-id">
              {status.node.id}
            </code>
          </dd>
        </div>
        <div>
          <dt>State</dt>
          <dd>
            <span id="node-state" data-testid="node-state" class={badgeClass(status.node.state)}>
              {status.node.state}
            </span>
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>
            <span id="node-role" data-testid="node-role" class={badgeClass(status.node.role)}>
              {status.node.role}
            </span>
          </dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd id="epoch" data-testid="epoch">
            {status.masters.epoch}
          </dd>
        </div>
        <div class="wide">
          <dt>Masters</dt>
          <dd id="masters" data-testid="masters">
            {formatMasters(status.masters.ids)}
          </dd>
        </div>
        <div>
          <dt>Primary entries</dt>
          <dd id="store-primary" data-testid="store-primary">
            {formatTier(status.store.primary, status.store.primaryBytes)}
          </dd>
        </div>
        <div>
          <dt>Cached copies</dt>
          <dd id="store-cached" data-testid="store-cached">
            {formatTier(status.store.cached, status.store.cachedBytes)}
          </dd>
        </div>
      </dl>
      <table data-testid="members">
        <caption id="members-caption">{formatMemberCount(members.length)}</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col" class="num">
              Keys
            </th>
            <th scope="col">State</th>
            <th scope="col">Master</th>
            <th scope="col" class="num">
              Last seen
            </th>
          </tr>
        </thead>
        <tbody id="members-body">
          {members.map((m) => {
            const self = m.id === status.node.id;
            // This node is alive by definition, whatever the age of its own announcement.
            const alive = m.alive || self;
            return (
              <tr data-testid="member-row" class={self ? 'self' : ''}>
                <th scope="row">
                  <code>{m.id}</code>
                </th>
                <td class="num">{m.keys}</td>
                <td>
                  <span class={badgeClass(alive ? m.state : 'silent')}>
                    {alive ? m.state : `${m.state}, silent`}
                  </span>
                </td>
                <td>{m.master ? 'master' : '–'}</td>
                <td class="num">{formatSeen(m.lastSeenMs, self)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
