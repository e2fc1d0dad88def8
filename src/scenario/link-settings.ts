/**
 * The effective settings of one link: the section's defaults, then every override naming the
 * link's two ends (in either order), in file order, so a later override wins key by key.
 */
import type { LinkSettings, LinksSection } from './schema.js';

export function linkSettingsFor(links: LinksSection, a: string, b: string): LinkSettings {
  const { overrides, ...settings } = links;
  const out: LinkSettings = { ...settings };
  for (const o of overrides) {
    const [x, y] = o.between;
    if (!((x === a && y === b) || (x === b && y === a))) continue;
    for (const [key, value] of Object.entries(o)) {
      if (key !== 'between' && value !== undefined) (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
