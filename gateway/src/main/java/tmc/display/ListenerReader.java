package tmc.display;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.messages.constants.Flags;
import org.freedesktop.dbus.spi.message.IMessageReader;
import org.freedesktop.dbus.types.UInt32;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The display listener's fast path. dbus-java unmarshals the arguments of a call to an exported object without
 * knowing the method's parameter types, so every pixel byte of an {@code ay} became a boxed {@code Byte} in a list,
 * copied back into a {@code byte[]} later: that was nearly all of the gateway's CPU on a changing screen. And it
 * queues every call for its method-call thread without bound, while QEMU 7.2 sends {@code Update}s without waiting
 * for answers: a gateway that fell behind kept the whole backlog in memory.
 *
 * <p>This reader sits between junixsocket's reader and dbus-java on the listener connection. QEMU's picture calls
 * (no answer expected) are unmarshalled with the parameter types given, which makes dbus-java copy the pixels in one
 * {@code System.arraycopy}, and handed to the {@link ListenerSink} right here, on the connection's reading thread,
 * in QEMU's order; dbus-java never sees them. Applying an update is a compare-and-copy into the guest's picture, as
 * cheap as reading it, so the gateway reads QEMU's socket as fast as QEMU writes it and nothing queues anywhere;
 * what is expensive (compositing, encoding) happens elsewhere on what changed, coalesced (see {@link DbusDisplay}).
 * Everything else (introspection, properties, calls expecting an answer) goes on to dbus-java unchanged.
 */
final class ListenerReader implements IMessageReader {
    private static final Logger LOG = Logger.getLogger(ListenerReader.class.getName());
    static final String INTERFACE = "org.qemu.Display1.Listener";
    private static final List<Type[]> UPDATE = List.<Type[]>of(new Type[] {Integer.class, Integer.class,
        Integer.class, Integer.class, UInt32.class, UInt32.class, byte[].class});
    private static final List<Type[]> SCANOUT = List.<Type[]>of(new Type[] {UInt32.class, UInt32.class,
        UInt32.class, UInt32.class, byte[].class});
    private static final List<Type[]> CURSOR = List.<Type[]>of(new Type[] {Integer.class, Integer.class,
        Integer.class, Integer.class, byte[].class});

    private final IMessageReader wire;
    private final InputStream queued;
    private final ListenerSink sink;

    ListenerReader(IMessageReader wire, AFUNIXSocketChannel channel, ListenerSink sink) {
        this.wire = wire;
        this.sink = sink;
        InputStream in;
        try {
            in = channel.socket().getInputStream();
        } catch (IOException e) {
            in = null; // then every call counts as the last one queued
        }
        this.queued = in;
    }

    /** The next message for dbus-java, or null (nothing complete yet, or a picture call consumed here). */
    @Override
    public Message readMessage() throws IOException, DBusException {
        Message m = wire.readMessage();
        if (!(m instanceof MethodCall call) || !consume(call)) return m;
        if (nothingQueued()) sink.drained();
        return null;
    }

    /** Hands a picture call to the sink; false when it is not one (dbus-java deals with it). */
    private boolean consume(MethodCall call) throws DBusException {
        if ((call.getFlags() & Flags.NO_REPLY_EXPECTED) == 0 || !INTERFACE.equals(call.getInterface())
                || !DbusDisplay.LISTENER_PATH.equals(call.getPath()) || call.getName() == null) {
            return false;
        }
        switch (call.getName()) {
            case "Update" -> {
                if (!"iiiiuuay".equals(call.getSig())) return false;
                Object[] a = call.getParameters(UPDATE);
                if (!(a[6] instanceof byte[] data)) return false;
                sink.update(i(a[0]), i(a[1]), i(a[2]), i(a[3]), i(a[4]), i(a[5]), data);
            }
            case "Scanout" -> {
                if (!"uuuuay".equals(call.getSig())) return false;
                Object[] a = call.getParameters(SCANOUT);
                if (!(a[4] instanceof byte[] data)) return false;
                sink.scanout(i(a[0]), i(a[1]), i(a[2]), i(a[3]), data);
            }
            case "CursorDefine" -> {
                if (!"iiiiay".equals(call.getSig())) return false;
                Object[] a = call.getParameters(CURSOR);
                if (!(a[4] instanceof byte[] data)) return false;
                sink.cursorDefine(i(a[0]), i(a[1]), i(a[2]), i(a[3]), data);
            }
            // Where the guest put its own pointer: viewers draw theirs from the cursor shape. Disable: the guest's
            // display is off; the last picture stays.
            case "MouseSet", "Disable" -> {
                // nothing to do
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private boolean nothingQueued() {
        if (queued == null) return true;
        try {
            return queued.available() == 0;
        } catch (IOException e) {
            LOG.log(Level.FINE, "listener socket", e);
            return true;
        }
    }

    private static int i(Object o) {
        return ((Number) o).intValue();
    }

    @Override
    public boolean isClosed() {
        return wire.isClosed();
    }

    @Override
    public void close() throws IOException {
        wire.close();
    }
}
