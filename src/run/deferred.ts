/**
 * A promise whose settlement is visible synchronously (`done`). Host agents are callback
 * driven; they settle a Deferred from inside a clock event, and the sim driver, which runs
 * events synchronously, stops the clock as soon as it sees `done`.
 */
export class Deferred<T> {
  done = false;
  value: T | undefined;
  error: unknown;
  readonly promise: Promise<T>;
  private res!: (v: T) => void;
  private rej!: (e: unknown) => void;

  constructor(readonly label = 'task') {
    this.promise = new Promise<T>((res, rej) => {
      this.res = res;
      this.rej = rej;
    });
    // A rejection is always observed through a driver's wait(); this keeps Node from
    // reporting it as unhandled in the moment before that happens.
    this.promise.catch(() => {});
  }

  resolve(v: T): void {
    if (this.done) return;
    this.done = true;
    this.value = v;
    this.res(v);
  }

  reject(e: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = e;
    this.rej(e);
  }
}
