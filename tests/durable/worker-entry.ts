// `trellis worker` as the durable suite runs it: the CLI, exiting with the test process.
import { dieWithParent } from './die-with-parent';

dieWithParent();
await import('../../cli/trellis');
