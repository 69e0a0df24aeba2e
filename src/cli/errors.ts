/** An error the CLI prints as one line (`feature-events <command>: <message>`) before exiting with `code`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}
