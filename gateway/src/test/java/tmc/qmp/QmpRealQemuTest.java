package tmc.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tmc.testkit.TestVm;

/** The QMP client against a real QEMU: negotiation, commands, errors, events, and QEMU being killed and restarted. */
class QmpRealQemuTest {
    static final Duration T = Duration.ofSeconds(20);

    @Test
    void commandsEventsAndRestart() throws Exception {
        try (TestVm vm = TestVm.builder().name("qmpvm").start()) {
            RecordingHandler recorder = new RecordingHandler();
            BlockingQueue<String> log = recorder.log;
            QmpConnection conn = new QmpConnection("qmpvm", new QmpAddress.Unix(vm.qmpSocket()), recorder).start();
            try {
                assertEquals("connected 1", log.poll(30, TimeUnit.SECONDS));
                QmpClient c = conn.awaitClient(T);
                assertNotNull(c);
                assertTrue(c.greeting().path("QMP").path("version").path("qemu").path("major").asInt() >= 10);
                assertEquals("running", c.execute("query-status", null, T).path("status").asText());
                assertTrue(c.execute("query-vnc", null, T).path("enabled").asBoolean());
                QmpException e = assertThrows(QmpException.class, () -> c.execute("no-such-command", null, T));
                assertEquals("CommandNotFound", e.errorClass());

                // Events caused by someone else (the test's own monitor) reach our listener.
                vm.qmp().execute("stop");
                assertEquals("event STOP", log.poll(20, TimeUnit.SECONDS));
                vm.qmp().execute("cont");
                assertEquals("event RESUME", log.poll(20, TimeUnit.SECONDS));

                // QEMU crashes and comes back at the same socket: a new generation.
                vm.restart();
                String next;
                do {
                    next = log.poll(60, TimeUnit.SECONDS);
                    assertNotNull(next, "no reconnect after QEMU restart");
                } while (!next.startsWith("connected"));
                assertEquals("connected 2", next);
                assertEquals("running", conn.awaitClient(T).execute("query-status", null, T).path("status").asText());
            } finally {
                conn.close();
            }
        }
    }
}
