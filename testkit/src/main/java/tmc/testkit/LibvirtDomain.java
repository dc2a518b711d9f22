package tmc.testkit;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The test guest as a domain of a {@link LibvirtDaemon}: type {@code qemu} (TCG), the patched QEMU (or, with
 * {@link #defineDbus}, Debian's stock QEMU with a D-Bus display instead of VNC) as its
 * {@code <emulator>}, direct kernel boot, VNC on a loopback port libvirt picks, the guest's serial port on a unix
 * socket (input events logged there, as with {@link TestVm}), tmc metadata naming its VM id and tenant, and a
 * second QMP monitor for the test itself (passed through {@code <qemu:commandline>}; the product only uses libvirt's).
 */
public final class LibvirtDomain implements Guest, AutoCloseable {
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);

    private final LibvirtDaemon daemon;
    private final String name;
    private final Path logDir;
    /** Debian's stock QEMU with a peer-to-peer D-Bus display instead of the patched QEMU's VNC. */
    private boolean dbusDisplay;
    private int generation;
    private SerialConsole serial;
    private QmpClient qmp;

    private LibvirtDomain(LibvirtDaemon daemon, String name) throws IOException {
        this.daemon = daemon;
        this.name = name;
        this.logDir = TestEnv.buildDir().resolve("vms").resolve("libvirt-" + name + "-"
                + daemon.dir().getFileName());
        Files.createDirectories(logDir);
    }

    /** Defines (does not start) domain {@code name} carrying tmc metadata {@code vmId}/{@code tenant}. */
    public static LibvirtDomain define(LibvirtDaemon daemon, String name, String vmId, String tenant)
            throws IOException {
        LibvirtDomain d = new LibvirtDomain(daemon, name);
        daemon.define(d.xml(vmId, tenant), name);
        return d;
    }

    /**
     * Defines (does not start) domain {@code name} on Debian's stock QEMU ({@link TestEnv#stockQemu}) with a
     * peer-to-peer D-Bus display ({@code <graphics type='dbus' p2p='yes'/>}) and no VNC: the gateway serves its
     * screen itself, attaching through libvirt.
     */
    public static LibvirtDomain defineDbus(LibvirtDaemon daemon, String name, String vmId, String tenant)
            throws IOException {
        LibvirtDomain d = new LibvirtDomain(daemon, name);
        d.dbusDisplay = true;
        daemon.define(d.xml(vmId, tenant), name);
        return d;
    }

    /** The domain XML; the metadata namespace is tmc's ({@code urn:tmc:vm:1}). */
    String xml(String vmId, String tenant) throws IOException {
        Path guest = TestEnv.guest();
        String cmdline = Files.readString(guest.resolve("cmdline")).trim() + " tmc.name=" + name;
        return """
                <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
                  <name>%s</name>
                  <metadata>
                    <tmc:vm xmlns:tmc='urn:tmc:vm:1' id='%s' tenant='%s' name='%s (libvirt)'/>
                  </metadata>
                  <memory unit='MiB'>256</memory>
                  <vcpu>1</vcpu>
                  <os>
                    <type arch='x86_64' machine='pc'>hvm</type>
                    <kernel>%s</kernel>
                    <initrd>%s</initrd>
                    <cmdline>%s</cmdline>
                  </os>
                  <features><acpi/></features>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>restart</on_reboot>
                  <on_crash>destroy</on_crash>
                  <devices>
                    <emulator>%s</emulator>
                    <controller type='usb' model='none'/>
                    <serial type='unix'>
                      <source mode='bind' path='%s'/>
                      <target port='0'/>
                    </serial>
                    <input type='tablet' bus='virtio'/>
                    %s
                    <video><model type='vga'/></video>
                    <memballoon model='none'/>
                  </devices>
                  <qemu:commandline>
                    <qemu:arg value='-qmp'/>
                    <qemu:arg value='unix:%s,server=on,wait=off'/>
                  </qemu:commandline>
                </domain>
                """.formatted(name, vmId, tenant, vmId, guest.resolve("vmlinuz"), guest.resolve("initrd.img"),
                cmdline, dbusDisplay ? TestEnv.stockQemu() : TestEnv.qemu(), serialSocket(),
                dbusDisplay ? "<graphics type='dbus' p2p='yes'/>"
                        : "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>", testQmpSocket());
    }

    public String name() {
        return name;
    }

    /** Starts the domain and waits until the guest says it is ready on its serial port. */
    public void start() throws IOException {
        closeClients();
        Files.deleteIfExists(serialSocket());
        Files.deleteIfExists(testQmpSocket());
        daemon.virsh("start", name);
        generation++;
        serial = new SerialConsole(connect(serialSocket()), logDir.resolve("serial-" + generation + ".log"));
        try {
            serial.awaitLine(0, "TMC-GUEST-READY", BOOT_TIMEOUT);
        } catch (AssertionError e) {
            throw new IOException("domain " + name + " did not boot: " + e.getMessage(), e);
        }
        qmp = QmpClient.connect(testQmpSocket());
    }

    /** Pulls the plug (virsh destroy): QEMU is gone at once. */
    public void destroy() throws IOException {
        closeClients();
        daemon.virsh("destroy", name);
    }

    public boolean running() throws IOException {
        return daemon.virsh("domstate", name).trim().equals("running");
    }

    /** The VNC TCP port libvirt gave the running domain. */
    public int vncPort() throws IOException {
        String display = daemon.virsh("vncdisplay", name).trim(); // "127.0.0.1:N"
        return 5900 + Integer.parseInt(display.substring(display.lastIndexOf(':') + 1));
    }

    @Override
    public QmpClient qmp() {
        return qmp;
    }

    @Override
    public SerialConsole serial() {
        return serial;
    }

    private Path serialSocket() {
        return daemon.dir().resolve(name + "-serial.sock");
    }

    private Path testQmpSocket() {
        return daemon.dir().resolve(name + "-qmp.sock");
    }

    private SocketChannel connect(Path socket) throws IOException {
        return UnixSockets.connect(socket, null, null); // libvirt reports a QEMU that failed to start itself
    }

    private void closeClients() {
        if (qmp != null) {
            qmp.close();
            qmp = null;
        }
        if (serial != null) {
            serial.close();
            serial = null;
        }
    }

    @Override
    public void close() {
        closeClients();
        try {
            if (running()) {
                daemon.virsh("destroy", name);
            }
        } catch (IOException e) {
            // the daemon cleans up what is left
        }
    }
}
