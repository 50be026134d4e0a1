/**
 * Durable channels: messages kept in a log table until every group that reads them has handled them, woken by the
 * NOTIFY the engine already listens for. {@link io.github.pgiplisten.core.durable.DurableLog} publishes (in the
 * caller's transaction) and manages cursors; {@link io.github.pgiplisten.core.durable.DurableConsumer} is a group's
 * reader, run by whichever instance leads the group, each message handled inside a transaction that also advances
 * the group's cursor.
 *
 * <p>How a cursor cannot skip a message: sequence values are taken at insert, not at commit, so reading "ids after
 * the last one" would miss a message whose transaction commits after a later id was read. Each message stores its
 * transaction's id ({@code pg_current_xact_id()}), and a cursor is a pair of snapshots: everything visible in
 * {@code lo} is handled; the window being handled is what is visible in {@code hi} and not in {@code lo}, in
 * (xid, id) order. A transaction still open when {@code hi} is taken is not in the window, and is in the next one
 * once it commits (it is in {@code lo}'s list of running transactions then), so a long transaction delays only its
 * own messages. Each window is read with one snapshot per statement.
 */
@NullMarked
package io.github.pgiplisten.core.durable;

import org.jspecify.annotations.NullMarked;
