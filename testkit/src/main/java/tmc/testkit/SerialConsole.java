package tmc.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The test guest's first serial port: every line it prints is kept (and copied to a log file), and commands can be
 * written to it. Lines are numbered from 0 so that a test can take a {@link #mark()} and look only at what came later.
 */
public final class SerialConsole implements AutoCloseable {
    private final SocketChannel channel;
    private final Path logFile;
    private final Thread reader;
    private final Journal<String> lines = new Journal<>("serial");

    SerialConsole(SocketChannel channel, Path logFile) {
        this.channel = channel;
        this.logFile = logFile;
        this.reader = Thread.ofVirtual().name("serial-" + logFile.getFileName()).start(this::readLoop);
    }

    private void readLoop() {
        try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
                var log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (String line; (line = in.readLine()) != null; ) {
                line = line.replace("\r", "");
                log.write(line);
                log.newLine();
                log.flush();
                lines.add(line);
            }
        } catch (IOException e) {
            // The VM went away; waiters see eof.
        } finally {
            lines.end();
        }
    }

    /** The number of lines seen so far: pass it to the *Since methods to look only at later lines. */
    public int mark() {
        return lines.mark();
    }

    public List<String> linesSince(int mark) {
        return lines.since(mark);
    }

    /** Waits for a line at or after {@code mark} matching {@code test}; throws AssertionError on timeout or EOF. */
    public String awaitLine(int mark, Predicate<String> test, Duration timeout) {
        return lines.await(mark, test, timeout, m -> "last lines: " + tail(10));
    }

    public String awaitLine(int mark, String prefix, Duration timeout) {
        return awaitLine(mark, line -> line.startsWith(prefix), timeout);
    }

    /** Sends a command (see scripts/build-guest.sh) and waits for its {@code TMC-OK} answer. */
    public String command(String command, Duration timeout) {
        int mark = mark();
        send(command);
        String verb = command.split(" ", 2)[0];
        String answer = awaitLine(mark,
                line -> line.startsWith("TMC-OK " + verb) || line.startsWith("TMC-ERR " + verb), timeout);
        if (answer.startsWith("TMC-ERR")) throw new AssertionError("guest refused '" + command + "': " + answer);
        return answer;
    }

    public void send(String command) {
        ByteBuffer bytes = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            synchronized (channel) {
                while (bytes.hasRemaining()) channel.write(bytes);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot write to the guest's serial port", e);
        }
    }

    /** Input events the guest logged at or after {@code mark}. */
    public List<InputEvent> inputEventsSince(int mark) {
        List<InputEvent> events = new ArrayList<>();
        for (String line : linesSince(mark)) {
            InputEvent event = InputEvent.parse(line);
            if (event != null) events.add(event);
        }
        return events;
    }

    /** Waits for an input event at or after {@code mark} matching {@code test}. */
    public InputEvent awaitInput(int mark, Predicate<InputEvent> test, Duration timeout) {
        String line = awaitLine(mark, l -> {
            InputEvent e = InputEvent.parse(l);
            return e != null && test.test(e);
        }, timeout);
        return InputEvent.parse(line);
    }

    public String tail(int n) {
        List<String> all = lines.since(0);
        return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
