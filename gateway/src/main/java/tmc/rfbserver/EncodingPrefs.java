package tmc.rfbserver;

/**
 * What a client's SetEncodings allows, read once per SetEncodings. The client's order of preference is not
 * followed beyond "Tight if offered, else Raw": Tight covers what the others would (zlib, JPEG, one-colour fill).
 */
record EncodingPrefs(boolean tight, int jpegQuality, int compressLevel, boolean desktopSize,
        boolean extendedDesktopSize, boolean cursor, boolean qemuExtendedKey) {

    /** Before SetEncodings: Raw only (RFC 6143 7.7.1: every client takes Raw). */
    static final EncodingPrefs RAW_ONLY = new EncodingPrefs(false, -1, 6, false, false, false, false);

    static EncodingPrefs of(int[] encodings) {
        boolean tight = false;
        int jpeg = -1;
        int level = 6;
        boolean size = false;
        boolean extSize = false;
        boolean cursor = false;
        boolean qemuKey = false;
        for (int e : encodings) {
            if (e == Encodings.TIGHT) tight = true;
            else if (e >= Encodings.JPEG_QUALITY_0 && e <= Encodings.JPEG_QUALITY_9) jpeg = e - Encodings.JPEG_QUALITY_0;
            else if (e >= Encodings.COMPRESS_LEVEL_0 && e <= Encodings.COMPRESS_LEVEL_9) level = e - Encodings.COMPRESS_LEVEL_0;
            else if (e == Encodings.DESKTOP_SIZE) size = true;
            else if (e == Encodings.EXTENDED_DESKTOP_SIZE) extSize = true;
            else if (e == Encodings.CURSOR) cursor = true;
            else if (e == Encodings.QEMU_EXTENDED_KEY) qemuKey = true;
        }
        return new EncodingPrefs(tight, jpeg, level, size, extSize, cursor, qemuKey);
    }

    boolean canResize() {
        return desktopSize || extendedDesktopSize;
    }
}
