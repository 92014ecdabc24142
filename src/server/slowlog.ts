/** SLOWLOG entries and the LATENCY monitor's event history. */
export interface SlowlogEntry {
  id: number;
  time: number; // unix seconds
  usec: number;
  argv: string[];
  addr: string;
  name: string;
}

export class SlowLog {
  entries: SlowlogEntry[] = [];
  private nextId = 0;
  push(e: Omit<SlowlogEntry, 'id'>, maxLen: number): void {
    // Redis truncates to 32 arguments and 128 bytes per argument.
    const argv = e.argv.length > 32 ? [...e.argv.slice(0, 31), `... (${e.argv.length - 31} more arguments)`] : e.argv;
    const clipped = argv.map((a) => (a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a));
    this.entries.unshift({ ...e, argv: clipped, id: this.nextId++ });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }
  reset(): void {
    this.entries = [];
  }
}

export interface LatencySample {
  time: number; // unix seconds
  ms: number;
}

/** Redis's latency monitor: per event, the last 160 samples (one per second) and the all-time max. */
export class LatencyMonitor {
  readonly events = new Map<string, { samples: LatencySample[]; max: number }>();
  add(event: string, ms: number): void {
    const t = Math.floor(Date.now() / 1000);
    let e = this.events.get(event);
    if (e === undefined) this.events.set(event, (e = { samples: [], max: 0 }));
    const last = e.samples[e.samples.length - 1];
    if (last !== undefined && last.time === t) last.ms = Math.max(last.ms, ms);
    else {
      e.samples.push({ time: t, ms });
      if (e.samples.length > 160) e.samples.shift();
    }
    e.max = Math.max(e.max, ms);
  }
  reset(events?: string[]): number {
    if (!events || events.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const ev of events) if (this.events.delete(ev)) n++;
    return n;
  }
}
