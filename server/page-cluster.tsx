import type { Child } from 'hono/jsx';
import type { DistNode } from '../cluster/node.js';
import {
  badgeClass,
  formatClockOffset,
  formatMasters,
  formatMemberCount,
  formatSeen,
  formatTier,
  formatUnheard,
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
        <Tile label="This node">
          <code id="node-id" data-testid="node-id">
            {status.node.id}
          </code>
        </Tile>
        <Tile label="State">
          <Badge id="node-state" word={status.node.state} />
        </Tile>
        <Tile label="Role">
          <Badge id="node-role" word={status.node.role} />
        </Tile>
        <Tile label="Epoch" id="epoch">
          {status.masters.epoch}
        </Tile>
        <Tile label="Masters" id="masters" wide>
          {formatMasters(status.masters.ids)}
        </Tile>
        <Tile label="Primary entries" id="store-primary">
          {formatTier(status.store.primary, status.store.primaryBytes)}
        </Tile>
        <Tile label="Cached copies" id="store-cached">
          {formatTier(status.store.cached, status.store.cachedBytes)}
        </Tile>
        <Tile label="Storage">
          <Badge id="storage" word={status.storage} />
        </Tile>
        <Tile label="Clock vs. cluster">
          <Badge id="clock-offset" word={status.clock.off ? 'off' : 'in-step'}>
            {formatClockOffset(status.clock.offsetSeconds)}
          </Badge>
          {status.clock.unheard.length > 0 && (
            <span id="clock-unheard" data-testid="clock-unheard">
              {formatUnheard(status.clock.unheard.length)}
            </span>
          )}
        </Tile>
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
              Clock
            </th>
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
                  <Badge word={alive ? m.state : 'silent'}>
                    {alive ? m.state : `${m.state}, silent`}
                  </Badge>
                </td>
                <td>{m.master ? 'master' : '–'}</td>
                <td class="num">{formatClockOffset(m.clockOffsetSeconds)}</td>
                <td class="num">{formatSeen(m.lastSeenMs, self)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** One of the cluster's facts: its label over its value (`id` names the value, for tests). */
function Tile({
  label,
  id,
  wide,
  children,
}: {
  label: string;
  id?: string;
  wide?: boolean;
  children: Child;
}) {
  return (
    <div class={wide ? 'wide' : undefined}>
      <dt>{label}</dt>
      <dd id={id} data-testid={id}>
        {children}
      </dd>
    </div>
  );
}

/** A state or role word in its colour; `children` words it otherwise. */
function Badge({ word, id, children }: { word: string; id?: string; children?: Child }) {
  return (
    <span id={id} data-testid={id} class={badgeClass(word)}>
      {children ?? word}
    </span>
  );
}
