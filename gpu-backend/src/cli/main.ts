/**
 * The project's command-line tool: `npm run -s cli -- <command> [options]`. With `--json` a command prints one
 * JSON object on stdout; progress goes to stderr. Exit codes: 0 ok, 1 failure, 2 usage error.
 * @module
 */
import { UsageError, type Command } from './command.js';
import { commands } from './commands/index.js';

function help(): string {
  return [
    'usage: npm run -s cli -- <command> [options] [--json]',
    '',
    ...Object.values(commands as Record<string, Command>).map((c) => `  ${c.usage}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    process.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  const command = (commands as Record<string, Command>)[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n${help()}\n`);
    return 2;
  }
  const json = rest.includes('--json');
  try {
    const result = await command.run(rest, { progress: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(json ? `${JSON.stringify(result.json)}\n` : `${result.text}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
