package io.github.pgiplisten.core.connection;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * What the server sent while the engine did not read (its backlog over the limit), kept in a temporary file so that
 * the server is never held up and its TCP user timeout never drops the session; a {@link WakeableSocket} reads it
 * back, in order, before the socket. The file is made at the first spill and deleted when closed; only the owner
 * thread touches it.
 */
final class SpillFile implements Closeable {

    private @Nullable FileChannel file;
    private @Nullable ByteBuffer buffer;
    private long written;
    private long read;
    /** The server closed the connection while spilling: after what the file holds comes the end of the stream. */
    private boolean ended;

    /** Moves what has arrived on {@code channel} into the file, without waiting; returns how many bytes it moved. */
    long takeFrom(SocketChannel channel) throws IOException {
        FileChannel target = file;
        if (target == null) {
            Path path = Files.createTempFile("pg-ip-listen-spill-", ".bin");
            target = FileChannel.open(
                    path, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE);
            file = target;
            buffer = ByteBuffer.allocateDirect(64 * 1024);
        }
        ByteBuffer through = Objects.requireNonNull(buffer);
        long moved = 0;
        while (!ended) {
            through.clear();
            Interrupts.ignore(); // file and socket channels close themselves on an interrupt
            int count = channel.read(through);
            if (count < 0) {
                ended = true; // the server closed: read back what came first, then the end
            } else if (count == 0) {
                break;
            } else {
                through.flip();
                while (through.hasRemaining()) {
                    written += target.write(through, written);
                }
                moved += count;
            }
        }
        return moved;
    }

    /** Bytes waiting in the file. */
    long waiting() {
        return written - read;
    }

    /** Whether the stream ends after what the file holds. */
    boolean ended() {
        return ended;
    }

    /** While bytes wait: reads the next of them into {@code target}, never more than wait. */
    int readBack(ByteBuffer target) throws IOException {
        FileChannel source = Objects.requireNonNull(file);
        int limit = target.limit();
        target.limit((int) Math.min(limit, target.position() + (written - read)));
        int count = source.read(target, read);
        target.limit(limit);
        read += Math.max(0, count);
        if (read == written) {
            source.truncate(0); // all read back: the file's space goes
            read = 0;
            written = 0;
        }
        return count;
    }

    @Override
    public void close() throws IOException {
        FileChannel open = file;
        if (open != null) {
            open.close();
        }
    }
}
