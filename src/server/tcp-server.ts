/**
 * TCP listener(s) for the engine: `bind` addresses (a leading `-` marks an
 * address as optional), `port`, `maxclients` and `protected-mode`.
 */
import net from 'node:net';
import { unlinkSync } from 'node:fs';
import type { Engine } from './engine.js';
import { Connection } from './connection.js';
import { replyBufferCron } from './reply-buffer.js';
import { queryBufferCron } from './query-buffer.js';

const PROTECTED_MODE_ERROR =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. If you want to connect from external computers, ' +
  "you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' " +
  'from the loopback interface by connecting from the same host the server is running, however MAKE SURE the server is not publicly ' +
  'accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the ' +
  "protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an " +
  'authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to ' +
  'start accepting connections from the outside.\r\n';

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

export class TcpServer {
  private readonly servers: net.Server[] = [];
  readonly connections = new Set<Connection>();
  port = 0;
  /** The `unixsocket` listener, if any (not affected by CONFIG SET port / bind). */
  private unixServer: net.Server | null = null;
  /** The bind addresses the listeners were opened with. */
  private bind = '';

  constructor(private readonly engine: Engine) {
    // CLIENT LIST rbs=/rbp=: the modelled reply buffers resize on every cron tick.
    engine.cronHooks.push(() => {
      replyBufferCron(engine);
      queryBufferCron(engine);
      // Output limits are also checked without traffic (a soft limit's time running out).
      for (const c of this.connections) c.checkOutputLimits();
    });
  }

  /** Listen on every bind address; resolves with the bound port. */
  async listen(): Promise<number> {
    const cfg = this.engine.config;
    const port = cfg.num('port');
    if (port === 0) return 0;
    this.bind = cfg.str('bind');
    this.servers.push(...(await this.openAll(this.bind, port)));
    await this.listenUnix();
    this.port = port;
    this.engine.tcpPort = port;
    return port;
  }

  /** The `unixsocket` listener (a stale socket file is replaced). */
  private async listenUnix(): Promise<void> {
    const cfg = this.engine.config;
    const path = cfg.str('unixsocket');
    if (path === '') return;
    try {
      unlinkSync(path);
    } catch {
      // no stale socket file
    }
    const server = net.createServer((socket) => this.accept(socket, true));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`Failed opening Unix socket: ${e.message}`)));
      server.listen({ path, backlog: cfg.num('tcp-backlog') }, () => resolve());
    });
    this.unixServer = server;
  }

  /**
   * Open a listener on every bind address for `port`; all or nothing (on a
   * failure the ones already open are closed and the error is thrown).
   */
  private async openAll(bind: string, port: number): Promise<net.Server[]> {
    const cfg = this.engine.config;
    const opened: net.Server[] = [];
    // bind "": no TCP listener at all (as Redis with an empty bind).
    if (bind.trim() === '') return opened;
    try {
      for (const b0 of bind.trim().split(/\s+/)) {
        const optional = b0.startsWith('-');
        let host = optional ? b0.slice(1) : b0;
        if (host === '*') host = '0.0.0.0';
        if (host === '::*') host = '::';
        const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
        try {
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen({ host, port, backlog: cfg.num('tcp-backlog'), ipv6Only: host.includes(':') }, () => {
              server.off('error', reject);
              resolve();
            });
          });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (optional && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT' || code === 'EINVAL')) {
            this.engine.log.warning(`Warning: Could not create server TCP listening socket ${host}:${port}: ${code}`);
            continue;
          }
          throw new Error(`Could not create server TCP listening socket ${host}:${port}: ${(e as Error).message}`);
        }
        opened.push(server);
      }
      if (opened.length === 0) throw new Error('Failed listening on any bind address');
    } catch (e) {
      await closeServers(opened);
      throw e;
    }
    return opened;
  }

  /**
   * CONFIG SET port / bind: listen on the configured addresses and port,
   * keeping connected clients. A new port is opened before the old
   * listeners close; the same port (a bind change) after they close, and
   * they are re-opened if the new addresses fail. Rejects (with the old
   * listeners in place) when the new ones cannot be opened.
   */
  async relisten(): Promise<void> {
    const cfg = this.engine.config;
    const port = cfg.num('port');
    const bind = cfg.str('bind');
    const old = this.servers.splice(0);
    const oldPort = this.port;
    if (port !== oldPort || old.length === 0) {
      let opened: net.Server[] = [];
      try {
        if (port !== 0) opened = await this.openAll(bind, port);
      } catch (e) {
        this.servers.push(...old);
        throw e;
      }
      this.servers.push(...opened);
      await closeServers(old);
    } else {
      const oldBind = this.bind;
      await closeServers(old);
      try {
        this.servers.push(...(await this.openAll(bind, port)));
      } catch (e) {
        this.servers.push(...(await this.openAll(oldBind, port)));
        throw e;
      }
    }
    this.bind = bind;
    this.port = port;
    this.engine.tcpPort = port;
  }

  private accept(socket: net.Socket, unix = false): void {
    const e = this.engine;
    const cfg = e.config;
    e.stats.connectionsReceived++;
    if (this.connections.size >= cfg.num('maxclients')) {
      e.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (!unix && cfg.bool('protected-mode') && cfg.str('requirepass') === '' && !isLoopback(socket.remoteAddress)) {
      e.stats.rejectedConnections++;
      socket.end(PROTECTED_MODE_ERROR);
      return;
    }
    const c = new Connection(e, socket, (conn) => this.connections.delete(conn));
    this.connections.add(c);
  }

  /** Stop listening and drop every client. */
  async close(): Promise<void> {
    // Stop listening first (a client that saw its connection drop must find the port closed), then
    // drop the clients: server.close()'s callback waits for every open connection.
    if (this.unixServer !== null) this.servers.push(this.unixServer);
    this.unixServer = null;
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const c of this.connections) c.close(false);
    this.connections.clear();
    await closed;
    this.servers.length = 0;
  }
}

/**
 * Stop listening; connections already accepted stay open. (server.close()'s
 * callback waits for those connections to end, so it is not awaited: the
 * listening socket itself is released at once, one turn later.)
 */
async function closeServers(servers: net.Server[]): Promise<void> {
  for (const s of servers) s.close();
  await new Promise<void>((r) => setImmediate(r));
}
