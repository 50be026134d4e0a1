package io.github.pgiplisten.autoconfigure;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The Spring layer's walls: it uses the core through the core's API package only ({@code io.github.pgiplisten.core}),
 * never its internals (sub-packages such as {@code core.election} may change in any release), and its own packages
 * ({@code io.github.pgiplisten} for applications, {@code autoconfigure} and its {@code health}, {@code metrics} and
 * {@code observation} parts) depend on each other in no circle but the one Spring Boot's layout asks for: the
 * application-facing types are implemented in {@code autoconfigure}.
 */
class ArchitectureTests {

    private static final JavaClasses SPRING_LAYER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.github.pgiplisten")
            .that(DescribedPredicate.not(JavaClass.Predicates.resideInAPackage("io.github.pgiplisten.core..")));

    static final DescribedPredicate<JavaClass> CORE_INTERNALS = DescribedPredicate.describe(
            "the core's internals (its sub-packages but core.durable)",
            type -> type.getPackageName().startsWith("io.github.pgiplisten.core.")
                    && !type.getPackageName().equals("io.github.pgiplisten.core.durable"));

    @Test
    void theSpringLayerUsesTheCoresApiOnly() {
        ArchRule rule = noClasses()
                .should()
                .dependOnClassesThat(CORE_INTERNALS)
                .because("the core's sub-packages are internal: io.github.pgiplisten.core and"
                        + " io.github.pgiplisten.core.durable are its API");
        rule.check(SPRING_LAYER);
    }

    @Test
    void theSpringLayersPartsDoNotDependOnEachOtherInACircle() {
        slices().matching("io.github.pgiplisten.autoconfigure.(*)..")
                .should()
                .beFreeOfCycles()
                .check(SPRING_LAYER);
    }
}
