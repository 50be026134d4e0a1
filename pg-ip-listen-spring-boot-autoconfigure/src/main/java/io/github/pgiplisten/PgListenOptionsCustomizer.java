package io.github.pgiplisten;

import io.github.pgiplisten.core.PgListenOptions;

/**
 * Adjusts the listen engine's options after pg-ip-listen has set them from the {@code pg-ip-listen.*} properties and
 * before the container checks them: the Boot way to reach what no property covers (a handler executor of the
 * application's own, a notification observer, …). Every bean of this type is applied, in {@code @Order}.
 */
@FunctionalInterface
public interface PgListenOptionsCustomizer {

    void customize(PgListenOptions.Builder options);
}
