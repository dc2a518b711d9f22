package tmc.testkit;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Waiting for a file another process is about to create (a unix socket, a demo's state file): woken by the file
 * system (a WatchService on the file's directory; a rename into it counts) or by that process's exit, never by a
 * timer.
 */
public final class FileWatch {
    private FileWatch() {
    }

    /**
     * Returns once {@code file} exists: woken by its directory's create events, or by {@code owner}'s exit (then
     * throws {@code dead}'s reason); throws after {@code timeout}. The directory must exist.
     */
    public static void awaitFile(Path file, ProcessHandle owner, Supplier<String> dead, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (WatchService watch = file.getFileSystem().newWatchService()) {
            file.getParent().register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            if (owner != null) {
                owner.onExit().thenRun(() -> closeQuietly(watch)); // wakes the poll below
            }
            while (!Files.exists(file)) {
                if (owner != null && !owner.isAlive()) {
                    throw new IOException(dead.get());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException(file + " did not appear within " + timeout.toSeconds() + " s");
                }
                WatchKey key;
                try {
                    key = watch.poll(left, TimeUnit.NANOSECONDS);
                } catch (ClosedWatchServiceException exited) {
                    continue; // the owner exited: the loop says why (or finds the file it made first)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
    }

    private static void closeQuietly(WatchService watch) {
        try {
            watch.close();
        } catch (IOException e) {
            // closing only wakes the waiter
        }
    }
}
