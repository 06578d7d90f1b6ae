// Free ArrayBuffers kept for reuse as kernel outputs. A fresh large array costs page faults on first touch
// (about 3 ns a byte here), so recycling them is what keeps a training step fast. Requests are served best fit
// from any size up to `maxWaste` times larger, so a large inference batch (a different size at every layer)
// reuses the buffers of the layer before instead of holding one set per size.

export class BufferPool {
  // Oldest first: eviction drops from the front.
  private free: ArrayBuffer[] = [];
  private bytes = 0;

  /**
   * @param maxBytes the most bytes kept; giving more evicts the oldest buffers.
   * @param maxWaste a request of n bytes takes a buffer of at most n × maxWaste bytes.
   */
  constructor(
    readonly maxBytes: number,
    readonly maxWaste = 2,
  ) {
    if (!(maxBytes >= 0)) throw new RangeError(`Expected a pool size of at least 0 bytes but found ${maxBytes}`);
    if (!(maxWaste >= 1)) throw new RangeError(`Expected maxWaste of at least 1 but found ${maxWaste}`);
  }

  /** The smallest free buffer that holds `byteLength` bytes without wasting more than `maxWaste`; removed from the pool. */
  take(byteLength: number): ArrayBuffer | undefined {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= byteLength && size <= byteLength * this.maxWaste && (best < 0 || size < this.free[best].byteLength)) {
        best = i;
        if (size === byteLength) break;
      }
    }
    if (best < 0) return undefined;
    const [buffer] = this.free.splice(best, 1);
    this.bytes -= buffer.byteLength;
    return buffer;
  }

  /** Keeps a buffer nobody else references; the oldest buffers make room. Larger than the pool: dropped. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength > this.maxBytes) return;
    let evict = 0;
    while (this.bytes + buffer.byteLength > this.maxBytes) this.bytes -= this.free[evict++].byteLength;
    if (evict > 0) this.free.splice(0, evict);
    this.free.push(buffer);
    this.bytes += buffer.byteLength;
  }

  /** Drops every buffer (the garbage collector frees them). */
  clear(): void {
    this.free = [];
    this.bytes = 0;
  }

  get byteCount(): number {
    return this.bytes;
  }

  get size(): number {
    return this.free.length;
  }
}
