package tmc.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import tmc.rfb.ServerAddress;

class DomainXmlTest {
    private static String domain(String metadata, String graphics) {
        return """
                <domain type='qemu' id='3'>
                  <name>desk-7</name>
                  <uuid>6f1b2a34-0c1d-4e5f-8a9b-0c1d2e3f4a5b</uuid>
                  %s
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <graphics type='spice' port='5930'/>
                    %s
                  </devices>
                </domain>
                """.formatted(metadata, graphics);
    }

    private static final String TMC = "<metadata><other:x xmlns:other='urn:other'/>"
            + "<tmc:vm xmlns:tmc='urn:tmc:vm:1' id='vm-42' tenant='acme' name='Build box'/></metadata>";

    @Test
    void runningDomainWithMetadata() {
        DomainXml.Domain d = DomainXml.parse(domain(TMC,
                "<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1' passwd='s3cret'>"
                        + "<listen type='address' address='127.0.0.1'/></graphics>"), null);
        assertEquals("desk-7", d.name());
        assertEquals("6f1b2a34-0c1d-4e5f-8a9b-0c1d2e3f4a5b", d.uuid());
        assertEquals(new DomainXml.Tmc("vm-42", "acme", "Build box"), d.tmc());
        assertEquals(ServerAddress.tcp("127.0.0.1", 5901), d.vnc());
        assertEquals("s3cret", d.vncPassword());
    }

    @Test
    void wildcardListenIsReachedOnLoopbackOrTheConfiguredHost() {
        String xml = domain(TMC, "<graphics type='vnc' port='5905'><listen type='address' address='0.0.0.0'/>"
                + "</graphics>");
        assertEquals(ServerAddress.tcp("127.0.0.1", 5905), DomainXml.parse(xml, null).vnc());
        assertEquals(ServerAddress.tcp("10.1.2.3", 5905), DomainXml.parse(xml, "10.1.2.3").vnc());
    }

    @Test
    void socketListen() {
        DomainXml.Domain d = DomainXml.parse(domain(TMC, "<graphics type='vnc'><listen type='socket' "
                + "socket='/var/lib/libvirt/qemu/domain-3-desk-7/vnc.sock'/></graphics>"), null);
        assertEquals(ServerAddress.unix(java.nio.file.Path.of("/var/lib/libvirt/qemu/domain-3-desk-7/vnc.sock")),
                d.vnc());
    }

    @Test
    void aPeerToPeerDbusDisplayIsFoundByItsIndexAmongTheGraphics() {
        // The spice device comes first: virDomainOpenGraphics takes the index among all graphics devices.
        DomainXml.Domain d = DomainXml.parse(domain(TMC, "<graphics type='dbus' p2p='yes'/>"), null);
        assertEquals(1, d.dbusGraphics());
        assertTrue(d.dbusDisplay());
        assertNull(d.vnc());
        assertEquals(-1, DomainXml.parse(domain(TMC, "<graphics type='vnc' port='5901'/>"), null).dbusGraphics());
        // Its native viewers' listener, if any, is in the metadata (the password is not: it is in the environment).
        DomainXml.Domain listening = DomainXml.parse(domain("<metadata><tmc:vm xmlns:tmc='urn:tmc:vm:1' id='vm-42'"
                + " tenant='acme' vncListen='tcp:127.0.0.1:5901'/></metadata>", "<graphics type='dbus' p2p='yes'/>"),
                null);
        assertEquals(new DomainXml.Tmc("vm-42", "acme", "vm-42", "tcp:127.0.0.1:5901"), listening.tmc());
    }

    @Test
    void aDbusDisplayOnABusIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DomainXml.parse(domain(TMC, "<graphics type='dbus'/>"), null));
        assertEquals("domain desk-7: its D-Bus display needs p2p='yes' for tmc (<graphics type='dbus' p2p='yes'/>)",
                e.getMessage());
    }

    @Test
    void stoppedDomainHasNoVncYet() {
        assertNull(DomainXml.parse(domain(TMC, "<graphics type='vnc' port='-1' autoport='yes'/>"), null).vnc());
    }

    @Test
    void domainWithoutTmcMetadataIsNotAVm() {
        assertNull(DomainXml.parse(domain("", ""), null).tmc());
        assertNull(DomainXml.parse(domain("<metadata><tmc:vm xmlns:tmc='urn:not-tmc' tenant='a'/></metadata>", ""),
                null).tmc());
    }

    @Test
    void idAndNameDefault() {
        DomainXml.Domain d = DomainXml.parse(domain(
                "<metadata><vm xmlns='urn:tmc:vm:1' tenant='acme'/></metadata>", ""), null);
        assertEquals(new DomainXml.Tmc("desk-7", "acme", "desk-7"), d.tmc());
    }

    @Test
    void badMetadataSaysWhy() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DomainXml.parse(domain(
                "<metadata><tmc:vm xmlns:tmc='urn:tmc:vm:1' id='vm 42' tenant='acme'/></metadata>", ""), null));
        assertEquals("domain desk-7: tmc id 'vm 42' is not 1-64 of A-Z a-z 0-9 . _ - (set id= in its tmc metadata)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DomainXml.parse(domain(
                "<metadata><tmc:vm xmlns:tmc='urn:tmc:vm:1' id='vm-1'/></metadata>", ""), null));
        assertEquals("domain desk-7: tmc metadata without a tenant", e.getMessage());
    }

    @Test
    void hostileXmlIsRefused() {
        String xxe = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                + "<domain><name>&x;</name></domain>";
        assertThrows(IllegalArgumentException.class, () -> DomainXml.parse(xxe, null));
        assertThrows(IllegalArgumentException.class, () -> DomainXml.parse("<network><name>n</name></network>",
                null));
        assertThrows(IllegalArgumentException.class, () -> DomainXml.parse("<domain>", null));
    }
}
