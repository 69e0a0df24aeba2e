import { createClient } from '@clickhouse/client';
import { libraryClient } from '../../src/clickhouse/library-client.js';
import { claimEpoch } from '../../src/clickhouse/migrations/lock.js';
import { SINGLE } from '../../src/clickhouse/migrations/profile.js';

// One process's claim of one lock epoch, for the cross-process test of the lock's primitive:
//   node --import tsx test/helpers/claim-epoch.ts <url> <password> <epoch> <holder>
// Prints "won" or "lost" once the claim is read back.
const [url, password, epoch, holder] = process.argv.slice(2);
const client = createClient({ url, password });
const won = await claimEpoch(libraryClient(client), SINGLE, Number(epoch), holder as string);
process.stdout.write(won ? 'won\n' : 'lost\n');
await client.close();
