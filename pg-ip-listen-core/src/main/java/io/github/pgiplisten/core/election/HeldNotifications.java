package io.github.pgiplisten.core.election;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.dispatch.Backlog;

/**
 * What a standby keeps of its group's notifications, in queue order, each at its position in the queue: in memory up
 * to a limit, the oldest in a temporary file past it, as a leader keeps what it cannot read yet. A standby must keep
 * everything its leader has not confirmed, however long the leader's listeners are stuck, so the heap stays bounded
 * and the rest waits on disk. Only when the disk refuses does it drop the oldest, and says so.
 *
 * <p>The file holds chunks of about a mebibyte, oldest first; a confirmation drops whole chunks, and within the chunk
 * it reaches only marks a position below which that chunk's notifications are gone. The file is made at the first
 * chunk, emptied when every chunk is gone, and deleted when closed. Only the owner thread uses it. Just over 300 lines
 * because memory and file keep one queue order between them, and the chunks' byte format is read where it is written.
 */
final class HeldNotifications implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HeldNotifications.class);

    private record Held(long position, PgNotification notification, long size) {}

    /** Notifications on disk: {@code count} of them (those at {@code skipBelow} or later) are still held. */
    private static final class Chunk {

        final long offset;
        final int length;
        final long lastPosition;
        int count;
        long skipBelow;

        Chunk(long offset, int length, long lastPosition, int count) {
            this.offset = offset;
            this.length = length;
            this.lastPosition = lastPosition;
            this.count = count;
        }
    }

    private final long memoryLimit;
    private final long chunkBytes;
    private final ArrayDeque<Held> memory = new ArrayDeque<>();
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private long memoryBytes;
    private @Nullable FileChannel file;
    private long fileEnd;
    private int dropped;
    private long droppedTotal;
    private long lastDroppedPosition;

    /** Opens the temporary file (a test's opener may fail, as a full disk does). */
    @FunctionalInterface
    interface FileOpener {
        FileChannel open() throws IOException;
    }

    private final FileOpener opener;

    /** Keeps up to {@code memoryLimit} bytes (as {@link Backlog#sizeOf} counts them) in memory. */
    HeldNotifications(long memoryLimit) {
        this(
                memoryLimit,
                () -> FileChannel.open(
                        Files.createTempFile("pg-ip-listen-standby-", ".bin"),
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.DELETE_ON_CLOSE));
    }

    HeldNotifications(long memoryLimit, FileOpener opener) {
        this.opener = opener;
        this.memoryLimit = memoryLimit;
        // a mebibyte at a time, or half the limit when that is less (a test's tiny limit)
        this.chunkBytes = Math.max(1, Math.min(1024 * 1024, memoryLimit / 2));
    }

    /** Keeps a notification read at {@code position}, after everything kept before. */
    void add(long position, PgNotification notification) {
        long size = Backlog.sizeOf(notification);
        memory.addLast(new Held(position, notification, size));
        memoryBytes += size;
        if (memoryBytes > memoryLimit) {
            moveOldestToDisk();
        }
    }

    /** Drops everything kept before {@code position}: its leader's handlers have finished it. */
    void dropBefore(long position) {
        while (!chunks.isEmpty() && chunks.peekFirst().lastPosition < position) {
            chunks.removeFirst();
        }
        Chunk first = chunks.peekFirst();
        if (first != null && first.skipBelow < position) {
            first.skipBelow = position;
            first.count = read(first).size();
        }
        if (chunks.isEmpty()) {
            emptyFile();
        }
        while (!memory.isEmpty() && memory.peekFirst().position() < position) {
            memoryBytes -= memory.removeFirst().size();
        }
    }

    /** Notifications kept. */
    int count() {
        int count = memory.size();
        for (Chunk chunk : chunks) {
            count += chunk.count;
        }
        return count;
    }

    /** Bytes of notifications waiting on disk. */
    long bytesOnDisk() {
        long bytes = 0;
        for (Chunk chunk : chunks) {
            bytes += chunk.length;
        }
        return bytes;
    }

    /** Notifications dropped because the disk refused them, since the last confirmation that covers them. */
    int dropped() {
        return dropped;
    }

    /** Notifications dropped because the disk refused them, in all. */
    long droppedTotal() {
        return droppedTotal;
    }

    /** The position of the newest notification dropped so; 0 when none. */
    long lastDroppedPosition() {
        return lastDroppedPosition;
    }

    /** Forgets the drops: a confirmation covered them (their leader handled them). */
    void dropsCovered() {
        dropped = 0;
    }

    /**
     * The oldest notifications kept, about {@code bytes} of them (at least one while any is kept), removed from here;
     * empty once everything is taken. What the disk cannot give back is counted as dropped and logged.
     */
    List<PgNotification> takeOldest(long bytes) {
        Chunk chunk = chunks.pollFirst();
        if (chunk != null) {
            List<PgNotification> read = read(chunk);
            if (chunks.isEmpty()) {
                emptyFile();
            }
            return read;
        }
        List<PgNotification> taken = new ArrayList<>();
        long size = 0;
        while (!memory.isEmpty() && (taken.isEmpty() || size < bytes)) {
            Held held = memory.removeFirst();
            memoryBytes -= held.size();
            size += held.size();
            taken.add(held.notification());
        }
        return taken;
    }

    /** Drops everything kept, and the file. */
    @Override
    public void close() {
        memory.clear();
        memoryBytes = 0;
        chunks.clear();
        FileChannel open = file;
        file = null;
        if (open != null) {
            try {
                open.close();
            } catch (IOException ex) {
                // deleted on close anyway
            }
        }
    }

    private void moveOldestToDisk() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE, chunkBytes + 16384));
        List<Held> moved = new ArrayList<>();
        long size = 0;
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            while (!memory.isEmpty() && size < chunkBytes) {
                Held held = memory.removeFirst();
                moved.add(held);
                size += held.size();
                write(out, held);
            }
        } catch (IOException ex) {
            throw new IllegalStateException("writing to memory", ex);
        }
        memoryBytes -= size;
        if (moved.isEmpty()) {
            return;
        }
        try {
            FileChannel target = file();
            ByteBuffer buffer = ByteBuffer.wrap(bytes.toByteArray());
            long at = fileEnd;
            while (buffer.hasRemaining()) {
                at += target.write(buffer, at);
            }
            chunks.addLast(
                    new Chunk(fileEnd, bytes.size(), moved.get(moved.size() - 1).position(), moved.size()));
            if (fileEnd == 0) {
                log.info(
                        "A standby keeps more than {} bytes its leader has not confirmed: the oldest wait in a "
                                + "temporary file",
                        memoryLimit);
            }
            fileEnd = at;
        } catch (IOException | RuntimeException ex) {
            dropped += moved.size();
            droppedTotal += moved.size();
            lastDroppedPosition = moved.get(moved.size() - 1).position();
            log.warn(
                    "A standby could not keep {} notification(s) its leader has not confirmed on disk ({}): dropped; "
                            + "should it take over after a crash of its leader, they are not handled again",
                    moved.size(),
                    ex.toString());
        }
    }

    private FileChannel file() throws IOException {
        FileChannel open = file;
        if (open == null) {
            open = opener.open();
            file = open;
        }
        return open;
    }

    private void emptyFile() {
        FileChannel open = file;
        if (open != null && fileEnd > 0) {
            try {
                open.truncate(0);
            } catch (IOException ex) {
                // the space goes when the file is closed
            }
        }
        fileEnd = 0;
    }

    private static void write(DataOutputStream out, Held held) throws IOException {
        PgNotification notification = held.notification();
        out.writeLong(held.position());
        out.writeInt(notification.senderPid());
        byte[] channel = notification.channel().getBytes(StandardCharsets.UTF_8);
        out.writeShort(channel.length);
        out.write(channel);
        byte[] payload = notification.payload().getBytes(StandardCharsets.UTF_8);
        out.writeInt(payload.length);
        out.write(payload);
    }

    /** A chunk's notifications from its {@code skipBelow} on; an unreadable chunk counts as dropped. */
    private List<PgNotification> read(Chunk chunk) {
        List<PgNotification> read = new ArrayList<>(chunk.count);
        try {
            ByteBuffer buffer = ByteBuffer.allocate(chunk.length);
            FileChannel source = file();
            while (buffer.hasRemaining()) {
                if (source.read(buffer, chunk.offset + buffer.position()) < 0) {
                    throw new IOException("the file ended early");
                }
            }
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(buffer.array()));
            while (in.available() > 0) {
                long position = in.readLong();
                int pid = in.readInt();
                String channel = new String(in.readNBytes(in.readUnsignedShort()), StandardCharsets.UTF_8);
                String payload = new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
                if (position >= chunk.skipBelow) {
                    read.add(new PgNotification(channel, payload, pid));
                }
            }
        } catch (IOException ex) {
            dropped += chunk.count;
            droppedTotal += chunk.count;
            lastDroppedPosition = Math.max(lastDroppedPosition, chunk.lastPosition);
            log.warn(
                    "A standby could not read back {} notification(s) it kept on disk ({}): dropped",
                    chunk.count,
                    ex.toString());
            return List.of();
        }
        return read;
    }
}
