package io.github.pgiplisten.test;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.TestContextAnnotationUtils;

/** Gives the context of a test class annotated {@link PgListenTestDatabase} its database (spring.factories). */
class TestDatabaseContextCustomizerFactory implements ContextCustomizerFactory {

    @Override
    public @Nullable ContextCustomizer createContextCustomizer(
            Class<?> testClass, List<ContextConfigurationAttributes> configAttributes) {
        PgListenTestDatabase annotation =
                TestContextAnnotationUtils.findMergedAnnotation(testClass, PgListenTestDatabase.class);
        return annotation != null ? new TestDatabaseContextCustomizer(annotation.ownGroup()) : null;
    }
}
