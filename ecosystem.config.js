// pm2 fleet of three diststore nodes on this host: HTTP 8181–8183, the Redis protocol (RESP) on
// 6381–6383, multicast on loopback only.
// `npm start` runs it in the foreground (pm2-runtime); `npx pm2 start ecosystem.config.js` as
// a background fleet. Each node is the compiled daemon (run `npm run build` first).
import { fileURLToPath } from 'node:url';

const nodes = [8181, 8182, 8183];
// One data dir per node under the project (git ignores data/), or under DISTSTORE_FLEET_DATA.
const dataDir = (port) =>
  process.env.DISTSTORE_FLEET_DATA
    ? `${process.env.DISTSTORE_FLEET_DATA}/node-${port}`
    : fileURLToPath(new URL(`./data/node-${port}`, import.meta.url));

const apps = nodes.map((port) => ({
  name: `diststore-${port}`,
  script: 'dist/server/main.js',
  // RESP port = HTTP port - 1800: 8181 → 6381, next to Redis's own 6379.
  args: ['--port', String(port), '--resp-port', String(port - 1800)],
  exec_mode: 'fork',
  env: {
    DISTSTORE_BIND: '127.0.0.1',
    DISTSTORE_MULTICAST_INTERFACE: '127.0.0.1',
    DISTSTORE_DATA_DIR: dataDir(port),
  },
  // The daemon calls process.send('ready') once it has joined the cluster.
  wait_ready: true,
  listen_timeout: 10000,
  // Longer than the daemon's 5 s drain of in-flight requests at shutdown.
  kill_timeout: 8000,
  exp_backoff_restart_delay: 200,
  max_memory_restart: '1G',
}));

export default { apps };
// pm2 loads its config with require(); this named export is what require() of an ES module
// returns as module.exports (Node ≥ 20.19).
export { apps as 'module.exports' };
