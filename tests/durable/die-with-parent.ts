/**
 * The durable suite's processes run detached (a process group of their own, so kill -9 takes the
 * whole tree), and so they outlive a test process that was killed — a timed-out run left workers
 * polling a dropped database for as long as the machine was up. Their stdin is a pipe from the test
 * process, never written: its end means that process is gone, however it died, and takes this
 * process group down with it.
 */
export function dieWithParent(): void {
  process.stdin.on('end', () => process.kill(0, 'SIGKILL'));
  process.stdin.resume();
  // Watching must not be what keeps the process alive.
  process.stdin.unref();
}
