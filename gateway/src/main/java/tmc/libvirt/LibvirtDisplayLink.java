package tmc.libvirt;

import com.sun.jna.Pointer;
import java.io.FileDescriptor;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.newsclub.net.unix.FileDescriptorCast;
import tmc.display.DisplayLink;

/**
 * A libvirt domain's D-Bus display ({@code <graphics type='dbus' p2p='yes'/>}) reached through libvirt: the
 * socket goes to QEMU with {@code virDomainOpenGraphics} (libvirt passes it on with {@code add_client
 * @dbus-display} over its own monitor, the path the gateway takes itself with a QMP socket), and QEMU is known to be
 * gone when {@link LibvirtVms} sees the domain stop or loses libvirtd.
 */
final class LibvirtDisplayLink implements DisplayLink {
    private final Pointer conn;
    private final String uuid;
    private final int graphicsIndex;
    private final ExecutorService calls;
    private final Duration timeout;
    private Consumer<IOException> onGone;
    private IOException gone;

    LibvirtDisplayLink(Pointer conn, String uuid, int graphicsIndex, ExecutorService calls, Duration timeout) {
        this.conn = conn;
        this.uuid = uuid;
        this.graphicsIndex = graphicsIndex;
        this.calls = calls;
        this.timeout = timeout;
    }

    @Override
    public void addDbusClient(FileDescriptor fd) throws IOException {
        int fdNumber = FileDescriptorCast.using(fd).as(Integer.class);
        Future<Void> f;
        try {
            // A platform thread of LibvirtVms's: the call blocks inside libvirt.
            f = calls.submit(() -> {
                QemuMonitorEvents.Virt virt = QemuMonitorEvents.Virt.LIBVIRT;
                Pointer dom = virt.virDomainLookupByUUIDString(conn, uuid);
                if (dom == null) {
                    throw new IOException("libvirt: no domain " + uuid + ": " + virt.virGetLastErrorMessage());
                }
                try {
                    if (virt.virDomainOpenGraphics(dom, graphicsIndex, fdNumber, 0) < 0) {
                        throw new IOException("libvirt: virDomainOpenGraphics: " + virt.virGetLastErrorMessage());
                    }
                } finally {
                    virt.virDomainFree(dom);
                }
                return null;
            });
        } catch (RejectedExecutionException e) {
            throw new IOException("libvirt: closed");
        }
        try {
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("libvirt: virDomainOpenGraphics: no answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    @Override
    public void watch(Consumer<IOException> onGone) {
        IOException already;
        synchronized (this) {
            this.onGone = onGone;
            already = gone;
        }
        if (already != null) onGone.accept(already);
    }

    /** The domain stopped (or libvirtd is lost): QEMU, or our way to it, is gone. Once. */
    void gone(String why) {
        Consumer<IOException> callback;
        IOException cause = new IOException(why);
        synchronized (this) {
            if (gone != null) return;
            gone = cause;
            callback = onGone;
        }
        if (callback != null) callback.accept(cause);
    }

    @Override
    public void close() {
        gone("closed");
    }
}
