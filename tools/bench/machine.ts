import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import IORedis from 'ioredis';
import { Client } from 'pg';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  packages: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(databaseUrl: string, redisUrl: string): Promise<MachineInfo> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  const postgres = (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await pg.end();
  const redis = new IORedis(redisUrl);
  const info = await redis.info('server');
  await redis.quit();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    packages: Object.fromEntries(
      ['bullmq', 'socket.io', 'typeorm', 'fastify'].map((name) => [name, packageVersion(name)]),
    ),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where that is not readable. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    // After the command name: state is field 3, utime and stime are fields 14 and 15, in USER_HZ (100) ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
