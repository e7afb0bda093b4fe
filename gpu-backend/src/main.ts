/**
 * The GPU backend service: `tsx gpu-backend/src/main.ts`. Reads the environment (see `server/config.ts`),
 * listens, loads and warms the models in the background, and drains on SIGTERM/SIGINT (exit 0).
 * A bad configuration prints one line naming the variable and exits 1.
 * @module
 */
import { ConfigError, loadConfig, type Config } from './server/config.js';
import { createLogger } from './server/logger.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception; exiting', { err });
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.error('unhandled rejection; exiting', { err: err instanceof Error ? err : String(err) });
    process.exit(1);
  });

  // Loaded after the configuration is known good, so a bad value fails fast without loading onnxruntime.
  const [{ createBackend }, { encodeImage }, { loadPipeline }] = await Promise.all([
    import('./server/backend.js'),
    import('./image/encode.js'),
    import('./pipeline/load.js'),
  ]);
  const backend = createBackend(config, { loadPipeline, encode: encodeImage, logger });
  await backend.listen();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutdown requested', { signal });
    backend.shutdown().then(
      ({ flushed }) => {
        logger.info('exiting', { callbacks_flushed: flushed });
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('shutdown failed', { err: err instanceof Error ? err : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
