/** The shape of one CLI command. Commands are thin: they parse arguments and call the library API. */
export interface Command {
  /** first word on the command line, e.g. "data" or "predict" */
  name: string;
  /** one line for `kldm --help` */
  summary: string;
  /** full usage text for `kldm <name> --help` */
  usage: string;
  /** runs the command; returns the process exit code */
  run(argv: string[]): Promise<number>;
}
