/**
 * What a benchmark ran on: CPU, cores, memory, Node and onnxruntime versions, provider and threads.
 * @module
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../bench-models.js';

/** Machine description recorded with every result. */
export interface MachineInfo {
  cpu_model: string;
  /** Logical CPUs visible to this process. */
  cores: number;
  memory_gib: number;
  platform: string;
  node: string;
  onnxruntime: string;
  provider: string;
  /** Intra-op threads asked for (0 = onnxruntime's default: one per physical core). */
  intra_op_threads: number;
  /** Load average (1 min) when the run started: other work on a shared machine shows here. */
  load_avg_1m: number;
  hostname_hash: string;
}

function packageVersion(name: string): string {
  const file = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Short stable hash of the host name (identifies a machine across runs without recording its name). */
function hostHash(): string {
  let h = 2166136261;
  for (const c of os.hostname()) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Describes this machine and the run's provider settings. */
export function machineInfo(provider: string, intraOpThreads: number): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()}/${os.arch()} ${os.release()}`,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    provider,
    intra_op_threads: intraOpThreads,
    load_avg_1m: Math.round(os.loadavg()[0]! * 100) / 100,
    hostname_hash: hostHash(),
  };
}

/** One-line summary for table headers. */
export function machineLine(m: MachineInfo): string {
  return (
    `${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, onnxruntime-node ${m.onnxruntime}, ` +
    `provider ${m.provider}, intra-op threads ${m.intra_op_threads || 'default'}, load ${m.load_avg_1m}`
  );
}
