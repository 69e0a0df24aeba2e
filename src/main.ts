import { serve } from '@hono/node-server';
import { startService } from './service/start.js';

// Entry point for every role (ROLE=api|consumer|all); see README "Configuration".
const service = await startService(process.env, { serve });

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  const code = await service.stop(signal);
  process.exit(code);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
