/** The README an export leaves beside its files: how to build the image and run the lab. */
import { labName } from './containerlab.js';
import { IMAGE } from './dockerfile.js';

export type ExportFormat = 'compose' | 'containerlab';

export function exportReadme(format: ExportFormat, scenarioName: string, buildContext: string, topologyFile: string): string {
  const common = [
    `# ina: ${scenarioName}`,
    '',
    'Every node of the scenario (each switch, each host) runs in its own container as',
    '`ina node`; a `coordinator` container runs `ina up --mode attach`, waits for all of them,',
    'runs the workloads and writes `out/report.json`. `scenario.yaml` is a copy of the scenario',
    'the export was made from; the image is built from the project at',
    `\`${buildContext}\` with \`Dockerfile\`.`,
    '',
  ];
  if (format === 'compose') {
    return [
      ...common,
      '```sh',
      `docker compose -f ${topologyFile} up --build --exit-code-from coordinator`,
      `docker compose -f ${topologyFile} down`,
      '```',
      '',
      'The exit code is the coordinator\'s: 0 when every run is correct. Each topology link is its',
      'own Docker network (see the comments in the compose file for addresses).',
      '',
    ].join('\n');
  }
  return [
    ...common,
    '```sh',
    `docker build -t ${IMAGE} -f Dockerfile ${buildContext}`,
    `sudo containerlab deploy -t ${topologyFile}`,
    `docker wait clab-${labName(scenarioName)}-coordinator   # the coordinator's exit code: 0 when every run is correct`,
    `sudo containerlab destroy -t ${topologyFile}`,
    '```',
    '',
    'Node port p is interface eth{p+1}; eth0 is the management network the coordinator is',
    'reached on. One ina lab at a time: labs share the management network and its addresses.',
    '',
  ].join('\n');
}
