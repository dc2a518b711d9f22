package tmc.testkit;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A running test guest, however it was started ({@link TestVm} by hand, {@link LibvirtDomain} through libvirt): its
 * serial port, which logs the input it receives and takes commands, and the test's own QMP monitor.
 */
public interface Guest {
    SerialConsole serial();

    /** The test's own QMP connection (a second monitor; events reach both it and the product's). */
    QmpClient qmp();

    /** Shortcut for {@code serial().mark()}. */
    default int mark() {
        return serial().mark();
    }

    default List<InputEvent> inputEventsSince(int mark) {
        return serial().inputEventsSince(mark);
    }

    /**
     * Input the guest logged from {@code mark} up to an input barrier: a move of the guest's pointer to a new
     * horizontal position sent through QMP (input-send-event, the absolute pointer: the tablet), awaited in the
     * guest's log. Pointer input that reached QEMU before the barrier has been logged by then (one device, one
     * queue, in order), so a test can assert what the guest did not get without waiting an arbitrary time. The
     * barrier's own move is not in the list.
     */
    default List<InputEvent> inputEventsBeforeBarrier(int mark, Duration timeout) {
        int last = -1;
        for (InputEvent e : inputEventsSince(0)) {
            if (e.type() == InputEvent.EV_ABS && e.code() == 0) {
                last = e.value();
            }
        }
        int x = last == 1000 ? 1001 : 1000; // an unchanged value makes no event
        int barrierMark = mark();
        ObjectNode args = QmpClient.args();
        args.putArray("events").addObject().put("type", "abs").putObject("data").put("axis", "x").put("value", x);
        qmp().execute("input-send-event", args);
        return before(mark, barrierMark, e -> e.type() == InputEvent.EV_ABS && e.code() == 0 && e.value() == x,
                timeout);
    }

    /**
     * As {@link #inputEventsBeforeBarrier} for the keyboard: F12 pressed and released through QMP (the test guests
     * give it no meaning), awaited as its press in the guest's log; keys QEMU passed on before it are logged by then.
     */
    default List<InputEvent> keyEventsBeforeBarrier(int mark, Duration timeout) {
        int barrierMark = mark();
        ObjectNode args = QmpClient.args();
        ArrayNode events = args.putArray("events");
        for (boolean down : new boolean[] {true, false}) {
            events.addObject().put("type", "key").putObject("data").put("down", down)
                    .putObject("key").put("type", "qcode").put("data", "f12");
        }
        qmp().execute("input-send-event", args);
        return before(mark, barrierMark, e -> e.isKey() && e.code() == InputEvent.KEY_F12 && e.value() == 1,
                timeout);
    }

    /** Waits for the barrier at or after {@code barrierMark}; returns what was logged from {@code mark} up to it. */
    private List<InputEvent> before(int mark, int barrierMark, Predicate<InputEvent> barrier, Duration timeout) {
        serial().awaitInput(barrierMark, barrier, timeout);
        List<String> lines = serial().linesSince(mark);
        List<InputEvent> logged = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            InputEvent e = InputEvent.parse(lines.get(i));
            if (e != null && i >= barrierMark - mark && barrier.test(e)) {
                return List.copyOf(logged);
            } else if (e != null) {
                logged.add(e);
            }
        }
        throw new AssertionError("the input barrier left the guest's log");
    }

    /** Asks the guest to switch its screen to width x height x 32 and waits until it says it did. */
    default void setResolution(int width, int height) {
        serial().command("setres " + width + " " + height, Duration.ofSeconds(30));
    }
}
