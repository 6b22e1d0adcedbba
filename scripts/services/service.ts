/**
 * One local service process (Redis or FerretDB) that the supervisor, the chaos tests (through it)
 * and test/support/private-redis.ts start, stop and restart the same way: start and restart share
 * one launch (spawn, then wait until it answers), and a restart keeps the port and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { findFreePort, lockPorts } from './ports.js';
import { log, sleep } from './paths.js';

export type ServiceSpec = {
  name: string;
  /** The command line that serves on `port`. */
  command: (port: number) => { file: string; args: string[] };
  /** Where its stdout/stderr go (appended). */
  logFile: string;
  /** Answers as the service does once it is ready (Redis: PONG; FerretDB: accepts a connection). */
  ready: (port: number) => Promise<boolean>;
  /** Once ready: did the answer come from our process and not someone who grabbed the port? */
  ours?: (port: number, pid: number) => Promise<boolean>;
  /** How long a start may take to answer (LOCAL_SERVICES_TIMEOUT). */
  timeoutMs: number;
  /**
   * In a session of its own (setsid), so that a terminal Ctrl-C reaches only the command, and the
   * services stay up while it shuts down gracefully; the supervisor stops them afterwards.
   */
  ownSession?: boolean;
};

export type Launch = 'ready' | 'exited' | 'timeout' | 'not ours';

export class Service {
  port = 0;
  private proc: ChildProcess | null = null;
  /** Exits we cause (stop, restart, a failed start) are not reported to onUnexpectedExit. */
  private expected = new WeakSet<ChildProcess>();

  constructor(
    readonly spec: ServiceSpec,
    private readonly hooks: {
      /** The process died on its own while it should be serving. */
      onUnexpectedExit?: (service: Service, status: string) => void;
      /** Its pid changed (a start or restart): bookkeeping for the stale-run reaper. */
      onPid?: () => void;
      /** Give up waiting (a signal arrived during start-up). */
      aborted?: () => boolean;
    } = {},
  ) {}

  get name(): string {
    return this.spec.name;
  }
  get pid(): number {
    return this.proc?.pid ?? 0;
  }
  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /**
   * First start, on a port probed upward from `portBase` (call under the ports lock). Tried on a
   * fresh port only when someone outside the lock grabbed ours between probe and bind.
   */
  async start(portBase: number): Promise<Launch> {
    let result: Launch = 'exited';
    for (let attempt = 1; attempt <= 3; attempt++) {
      this.port = await findFreePort(portBase);
      result = await this.launch();
      if (result !== 'exited' || attempt === 3 || !/address already in use/i.test(this.log())) return result;
    }
    return result;
  }

  /** Start on a port the caller picked, or again on the port it had (after crash() or stop()). */
  async startAt(port = this.port): Promise<Launch> {
    this.port = port;
    return this.launch();
  }

  /**
   * Restart in place: same port, same data. `kill` SIGKILLs it (Redis then comes back from its AOF
   * as after a crash); `term` stops it cleanly. `downMs` keeps it down that long (an outage callers
   * can observe). The port is free while the service is down: another run probing for a free port
   * (a test's `npm start`, another test lane) would take it, and ours could not come back. Those
   * runs probe under the ports lock, so hold it until ours listens again.
   */
  async restart(how: 'term' | 'kill', downMs: number): Promise<boolean> {
    const lock = await lockPorts();
    try {
      const pid = this.pid;
      if (how === 'kill') await this.crash();
      else await this.stop();
      if (downMs > 0) await sleep(downMs);
      log(`${this.name} (pid ${pid}) stopped (${how}, down ${downMs} ms); starting it again on port ${this.port}`);
      // The port can still be held for a moment by the old process's last connections: a start that
      // exits at once is tried again (a new process that then dies would stop the command).
      for (let attempt = 1; attempt <= 5; attempt++) {
        const result = await this.launch();
        if (result === 'ready') return true;
        // Still starting after the timeout, or the last try: the caller sees the process as it is.
        if (result !== 'exited' || attempt === 5) return false;
        log(`warning: ${this.name} exited while starting again on port ${this.port} (try ${attempt}); last log lines:`);
        this.printLogTail(5);
        await sleep(500);
      }
      return false;
    } finally {
      lock.release();
    }
  }

  /** TERM, 10 s to shut down cleanly (Redis flushes its AOF, FerretDB closes SQLite), then KILL. */
  async stop(graceMs = 10_000): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    this.expected.add(proc);
    const exited = this.exitOf(proc);
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL: a crash; the next start replays the AOF as it was on disk. */
  async crash(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    this.expected.add(proc);
    const exited = this.exitOf(proc);
    proc.kill('SIGKILL');
    await exited;
  }

  /** Resolves when the current process has exited (at once if none runs). */
  exited(): Promise<void> {
    return this.proc && this.running ? this.exitOf(this.proc) : Promise.resolve();
  }

  log(): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  printLogTail(lines: number): void {
    const tail = this.log().trimEnd().split('\n').slice(-lines);
    if (tail.join('')) process.stderr.write(tail.map((l) => `    ${l}\n`).join(''));
  }

  private exitOf(proc: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
  }

  /** Spawn on this.port and wait until it answers (or exits, or LOCAL_SERVICES_TIMEOUT passes). */
  private async launch(): Promise<Launch> {
    const { file, args } = this.spec.command(this.port);
    const out = openSync(this.spec.logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(file, args, { stdio: ['ignore', out, out], detached: this.spec.ownSession ?? false });
    } finally {
      closeSync(out);
    }
    // A spawn failure (ENOENT) shows up as an exit below.
    proc.on('error', () => undefined);
    this.proc = proc;
    this.hooks.onPid?.();
    proc.once('exit', (code, sig) => {
      if (this.expected.has(proc) || this.proc !== proc) return;
      this.hooks.onUnexpectedExit?.(this, sig ?? String(code));
    });
    this.expected.add(proc); // until it is ready, an exit is the launch's result, not a surprise
    const result = await this.waitReady(proc);
    // Ready, or still starting after the timeout: from now on its death is news.
    if (result !== 'exited') this.expected.delete(proc);
    return result;
  }

  private async waitReady(proc: ChildProcess): Promise<Launch> {
    const gone = () => proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined;
    const deadline = Date.now() + this.spec.timeoutMs;
    while (Date.now() < deadline && !this.hooks.aborted?.()) {
      if (gone()) return 'exited';
      if (await this.spec.ready(this.port)) {
        // Still alive after answering: it is ours, not someone who grabbed the port meanwhile.
        if (gone()) return 'exited';
        if (this.spec.ours && !(await this.spec.ours(this.port, proc.pid!))) return 'not ours';
        return 'ready';
      }
      await sleep(100);
    }
    return gone() ? 'exited' : 'timeout';
  }
}
