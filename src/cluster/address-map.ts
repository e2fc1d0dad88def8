import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Topology } from '../topology/types.js';
import { endpointAddress, type Addressing, type UdpAddress } from './link-addresses.js';

/**
 * An address map: where each link end (`node:port`, as the topology numbers ports) lives, as
 * `host:port`. It lets a run spread over machines without per-link subnets: each machine's
 * nodes bind their own addresses and send to their peers' (`ina node --addressing map:FILE`).
 * `ina addresses FILE` prints one for a plan, to edit.
 */
export type AddressMap = Record<string, string>;

export class AddressMapError extends Error {}

function formatHostPort(a: UdpAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function parseHostPort(text: string): UdpAddress | null {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return null;
  return { host: m[1]!, port: Number(m[2]) };
}

/** The map of a plan: every link end of the topology, in link order. */
export function addressMapOf(topology: Topology, addressing: Addressing): AddressMap {
  const out: AddressMap = {};
  topology.links.forEach((l, i) => {
    out[`${l.a}:${l.aPort}`] = formatHostPort(endpointAddress(addressing, i, 'a', 0, topology.links.length));
    out[`${l.b}:${l.bPort}`] = formatHostPort(endpointAddress(addressing, i, 'b', 0, topology.links.length));
  });
  return out;
}

/** Reads a map (YAML or JSON) and checks it covers every link end with a distinct address. */
export function loadAddressMap(file: string, topology: Topology): Addressing {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AddressMapError(`address map ${file}: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AddressMapError(`address map ${file}: expected a mapping of node:port to host:port`);
  const map = raw as Record<string, unknown>;
  const ends = new Set(topology.links.flatMap((l) => [`${l.a}:${l.aPort}`, `${l.b}:${l.bPort}`]));
  for (const k of Object.keys(map)) if (!ends.has(k)) throw new AddressMapError(`address map ${file}: ${k}: no such link end in the topology (keys are node:port)`);
  const seen = new Map<string, string>();
  const at = (key: string): UdpAddress => {
    const v = map[key];
    if (v === undefined) throw new AddressMapError(`address map ${file}: ${key}: missing (every link end needs an address)`);
    const a = typeof v === 'string' ? parseHostPort(v) : null;
    if (!a) throw new AddressMapError(`address map ${file}: ${key}: expected host:port, got ${JSON.stringify(v)}`);
    const text = formatHostPort(a);
    const other = seen.get(text);
    if (other) throw new AddressMapError(`address map ${file}: ${key}: ${text} is also ${other}'s`);
    seen.set(text, key);
    return a;
  };
  const byLink = topology.links.map((l) => [at(`${l.a}:${l.aPort}`), at(`${l.b}:${l.bPort}`)] as const);
  return { kind: 'map', file, byLink };
}
