import type { FuzzReport } from './run.js';

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

/** Splits outcomes into the forwarded / consumed / dropped / exception columns. */
function columns(outcomes: Record<string, number>): [number, number, number, number] {
  let fwd = 0;
  let con = 0;
  let drop = 0;
  let exc = 0;
  for (const [k, v] of Object.entries(outcomes)) {
    if (k.startsWith('forwarded')) fwd += v;
    else if (k.startsWith('consumed')) con += v;
    else if (k.startsWith('dropped')) drop += v;
    else exc += v;
  }
  return [fwd, con, drop, exc];
}

/** The human summary of a fuzzing run: a line per program, the outcomes by reason, the verdict. */
export function renderFuzz(r: FuzzReport): string {
  const ip = r.inProcess;
  const lines: string[] = [];
  lines.push(`# fuzz, seed ${r.seed}: in-process, every program on a leaf-spine 2x2 (4 hosts per leaf)`);
  lines.push(`#${pad('program', 9)} ${pad('frames', 9)} ${pad('frames/s', 9)} ${pad('forwarded', 10)} ${pad('consumed', 9)} ${pad('dropped', 9)} ${pad('exceptions', 10)}`);
  for (const p of ip.byProgram) {
    const [fwd, con, drop, exc] = columns(p.outcomes);
    lines.push(` ${pad(p.program, 9)} ${pad(p.frames, 9)} ${pad(Math.round(p.frames / Math.max(1e-9, p.seconds)), 9)} ${pad(fwd, 10)} ${pad(con, 9)} ${pad(drop, 9)} ${pad(exc, 10)}`);
  }
  lines.push('outcomes (one per frame):');
  const width = Math.max(...Object.keys(ip.outcomes).map((k) => k.length));
  for (const [k, v] of Object.entries(ip.outcomes)) lines.push(`  ${k.padEnd(width)} ${pad(v, 9)}`);
  lines.push(
    `in-process: ${ip.frames} frames, ${ip.framesPerSec} frames/s, ${ip.exceptions} exceptions, ` +
      (ip.accounted ? 'every frame accounted for (outcomes sum to frames)' : 'NOT every frame accounted for'),
  );
  const u = r.udp;
  if (u) {
    lines.push(`# over udp: the same frames as datagrams to spine0, a switch whose every port is a loopback socket`);
    for (const p of u.byProgram) {
      const [fwd, con, drop, exc] = columns(p.outcomes);
      lines.push(` ${pad(p.program, 9)} ${pad(p.frames, 9)} ${pad(Math.round(p.frames / Math.max(1e-9, p.seconds)), 9)} ${pad(fwd, 10)} ${pad(con, 9)} ${pad(drop, 9)} ${pad(exc, 10)}`);
    }
    lines.push(
      `udp: ${u.sent} sent, ${u.frames} received by the switch (${u.lostInKernel} dropped by the kernel), ${u.framesPerSec} frames/s, ` +
        `${u.exceptions} exceptions, ${u.socketErrors} socket errors, ` +
        (u.accounted ? 'every frame accounted for' : 'NOT every frame accounted for'),
    );
  }
  for (const s of r.samples) lines.push(`exception: ${s.program} on ${s.switch} port ${s.port}: ${s.message} (frame ${s.frame})`);
  return lines.join('\n');
}
