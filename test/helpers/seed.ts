import { TestSystem } from '../harness/test-system';

/** An account with `count` phones, written straight into the test's database (no API, no secrets to use). */
export async function seedDevices(
  system: TestSystem,
  email: string,
  count: number,
): Promise<{ userId: number; deviceIds: number[] }> {
  const [{ id: userId }] = await system.query<{ id: number }>(
    `INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`,
    [email],
  );
  const devices = await system.query<{ id: number }>(
    `INSERT INTO devices (user_id, secret_hash) SELECT $1, repeat('0', 64) FROM generate_series(1, $2) RETURNING id`,
    [userId, count],
  );
  return { userId, deviceIds: devices.map((row) => row.id) };
}
