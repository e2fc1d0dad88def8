import { parseScenario, ScenarioError } from '../../src/scenario/load.js';

/** The ScenarioError that loading `text` as `file` raises (and a failure when it loads). */
export function scenarioErrorOf(text: string, file: string): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected the scenario to be rejected');
}
