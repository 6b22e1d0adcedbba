/**
 * A TCP proxy in front of a real server (Redis, FerretDB) that can lose one answer or slow some:
 *   - loseAnswerOnce: the request that matches is forwarded and executed, then the connection is cut
 *     before its reply reaches the client (and, if asked, new connections are refused for a while).
 *     That is what a client sees when the server dies, or the network drops, between executing a
 *     command and answering it — the one case where a client cannot know whether its write happened;
 *   - delayAnswers: the replies to matching requests reach the client late (a slow query, a busy
 *     server), in order with everything else on their connection.
 * Everything else passes through unchanged; the server is never imitated.
 */
import net from 'node:net';

export class FaultProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private cut: ((request: Buffer) => boolean) | null = null;
  private slow: { matches: (request: Buffer) => boolean; ms: number } | null = null;
  private downMs = 0;
  private downUntil = 0;
  /** Requests whose answer was delayed. */
  delayed = 0;
  /** Requests whose answer was lost, as they went to the server. */
  readonly lost: string[] = [];

  constructor(
    private readonly upstreamPort: number,
    private readonly upstreamHost = '127.0.0.1',
  ) {}

  get port(): number {
    return (this.server?.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = net.createServer((client) => (Date.now() < this.downUntil ? client.destroy() : this.pipe(client)));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  /**
   * The next request `matches` accepts is executed upstream; its reply is dropped and the connection
   * cut. With `downMs`, new connections are refused for that long after the cut, as while a server
   * that died restarts (a client cannot simply reconnect and send the request again).
   */
  loseAnswerOnce(matches: (request: Buffer) => boolean, downMs = 0): void {
    this.cut = matches;
    this.downMs = downMs;
  }

  /** From now on (null: no more), the answer to each request `matches` accepts reaches the client `ms` late. */
  delayAnswers(matches: ((request: Buffer) => boolean) | null, ms = 0): void {
    this.slow = matches ? { matches, ms } : null;
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client).add(upstream);
    let cutting = false;
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    // Replies are written through one chain per connection, so a delayed one keeps its place.
    let written = Promise.resolve();
    let delayNext = 0;
    client.on('data', (chunk) => {
      if (this.slow?.matches(chunk)) {
        delayNext = this.slow.ms;
        this.delayed++;
      }
      if (!cutting && this.cut?.(chunk)) {
        this.cut = null;
        cutting = true;
        this.lost.push(chunk.toString('latin1'));
      }
      upstream.write(chunk);
    });
    // Once the server answers what it was sent (so the request was executed), the answer is lost.
    upstream.on('data', (chunk) => {
      if (cutting) {
        this.downUntil = Date.now() + this.downMs;
        return close();
      }
      const wait = delayNext;
      delayNext = 0;
      written = written.then(() => (wait ? new Promise((r) => setTimeout(r, wait)) : undefined)).then(() => void client.write(chunk));
    });
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
