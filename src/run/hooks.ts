/**
 * Test hooks a run hands to its workloads (RunOptions.hooks, then WorkloadContext.hooks):
 * observers at quiet points and tuning overrides, passed in rather than set on module globals,
 * so that runs side by side never see each other's. The module in hosts/ that reads a kind of
 * hooks declares its key with their type (src/ never imports hosts/).
 */
export interface HookKey<T> {
  readonly name: string;
  /** never set: carries the hooks' type */
  readonly hooks?: T;
}

export function hookKey<T>(name: string): HookKey<T> {
  return { name };
}

export class RunHooks {
  private readonly byKey = new Map<HookKey<unknown>, unknown>();

  /** Sets the hooks of `key` (replacing earlier ones); returns this, to chain. */
  with<T>(key: HookKey<T>, hooks: T): this {
    this.byKey.set(key, hooks);
    return this;
  }

  get<T>(key: HookKey<T>): T | undefined {
    return this.byKey.get(key) as T | undefined;
  }
}
