package tmc.messages;

import tmc.qmp.QmpAddress;

/** A VM messages can be sent to: its id, its tenant, and where its QMP monitor listens (null = none). */
public record VmTarget(String id, String tenant, QmpAddress qmp) {
}
