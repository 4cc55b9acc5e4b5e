/**
 * Remembers the answers of a pure function of a string key, up to `capacity` of them; when full it
 * starts again empty (the keys a worker meets are few — its subscriptions' addresses and secrets — so a
 * reset is rare and costs one recomputation per key). Only for functions whose answer for a key never
 * changes while the process lives.
 */
export class BoundedMemo<T> {
  private readonly answers = new Map<string, T>();

  constructor(
    private readonly compute: (key: string) => T,
    private readonly capacity = 1024,
  ) {}

  get(key: string): T {
    const known = this.answers.get(key);
    if (known !== undefined || this.answers.has(key)) return known as T;
    const answer = this.compute(key);
    if (this.answers.size >= this.capacity) this.answers.clear();
    this.answers.set(key, answer);
    return answer;
  }

  get size(): number {
    return this.answers.size;
  }
}
