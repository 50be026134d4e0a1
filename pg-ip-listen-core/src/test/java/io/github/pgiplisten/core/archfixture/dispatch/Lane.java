package io.github.pgiplisten.core.archfixture.dispatch;

import io.github.pgiplisten.core.archfixture.connection.Climbs;

/** With {@link Climbs}, two sibling layers that use each other: a package cycle and a class cycle. */
public final class Lane {

    public static int across() {
        return Climbs.depth();
    }

    public static int width() {
        return 1;
    }
}
