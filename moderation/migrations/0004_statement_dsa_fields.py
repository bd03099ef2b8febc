import django.db.models.deletion
from django.db import migrations, models

import moderation.models


def automation_from_boolean(apps, schema_editor):
    statements = apps.get_model("moderation", "StatementOfReasons").objects
    statements.filter(automated_decision=True).update(automation="fully")


def boolean_from_automation(apps, schema_editor):
    statements = apps.get_model("moderation", "StatementOfReasons").objects
    statements.filter(automation="fully").update(automated_decision=True)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0003_report_message_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="statementofreasons",
            name="category",
            field=models.CharField(
                choices=[
                    ("STATEMENT_CATEGORY_ANIMAL_WELFARE", "bien-être animal"),
                    (
                        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
                        "protection des données et vie privée",
                    ),
                    (
                        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                        "discours illégaux ou préjudiciables",
                    ),
                    (
                        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
                        "atteintes à la propriété intellectuelle",
                    ),
                    (
                        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
                        "effets négatifs sur le débat civique ou les élections",
                    ),
                    ("STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR", "comportements non consentis"),
                    (
                        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
                        "pornographie ou contenus sexualisés",
                    ),
                    ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "protection des mineurs"),
                    (
                        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
                        "risque pour la sécurité publique",
                    ),
                    ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "arnaques et fraudes"),
                    ("STATEMENT_CATEGORY_SELF_HARM", "automutilation"),
                    (
                        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
                        "périmètre du service de la plateforme",
                    ),
                    (
                        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
                        "produits dangereux ou illégaux",
                    ),
                    ("STATEMENT_CATEGORY_VIOLENCE", "violence"),
                ],
                default="STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
                max_length=70,
                verbose_name="catégorie (règlement sur les services numériques)",
            ),
        ),
        migrations.AddField(
            model_name="statementofreasons",
            name="content_date",
            field=models.DateTimeField(blank=True, null=True, verbose_name="date du contenu"),
        ),
        migrations.AddField(
            model_name="statementofreasons",
            name="legal_provision",
            field=models.CharField(
                blank=True,
                choices=moderation.models.provision_choices,
                help_text="Pour un contenu illégal : l'article de loi sur lequel la décision se fonde.",
                max_length=20,
                verbose_name="disposition légale",
            ),
        ),
        migrations.AddField(
            model_name="statementofreasons",
            name="report",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="statements",
                to="moderation.report",
                verbose_name="signalement",
            ),
        ),
        migrations.AddField(
            model_name="statementofreasons",
            name="source_type",
            field=models.CharField(
                choices=[
                    ("SOURCE_ARTICLE_16", "notification au titre de l'article 16"),
                    ("SOURCE_TRUSTED_FLAGGER", "notification d'un signaleur de confiance"),
                    ("SOURCE_TYPE_OTHER_NOTIFICATION", "autre signalement"),
                    ("SOURCE_VOLUNTARY", "initiative propre"),
                ],
                default="SOURCE_VOLUNTARY",
                max_length=40,
                verbose_name="origine de la décision",
            ),
        ),
        migrations.AddField(
            model_name="statementofreasons",
            name="held_message",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="statements",
                to="moderation.heldmessage",
                verbose_name="message retenu refusé",
            ),
        ),
        migrations.AddField(
            model_name="statementofreasons",
            name="territorial_scope",
            field=models.JSONField(blank=True, default=list, verbose_name="portée territoriale"),
        ),
        # automated_decision: a yes/no becomes fully / partially / not automated.
        # A new column, filled from the old one, then renamed: a cast would turn
        # the booleans into "true"/"false" on one database and 1/0 on another.
        migrations.AddField(
            model_name="statementofreasons",
            name="automation",
            field=models.CharField(
                choices=[
                    ("fully", "entièrement automatisée"),
                    ("partially", "partiellement automatisée"),
                    ("not", "non automatisée"),
                ],
                default="not",
                max_length=10,
                verbose_name="décision automatisée",
            ),
        ),
        migrations.RunPython(automation_from_boolean, boolean_from_automation),
        migrations.RemoveField(model_name="statementofreasons", name="automated_decision"),
        migrations.RenameField(
            model_name="statementofreasons", old_name="automation", new_name="automated_decision"
        ),
        migrations.AlterField(
            model_name="statementofreasons",
            name="measure",
            field=models.CharField(
                choices=[
                    ("warn", "avertissement"),
                    ("mute", "mise en sourdine"),
                    ("kick", "exclusion temporaire"),
                    ("ban", "bannissement"),
                    ("removal", "suppression d'un message"),
                    ("rejection", "refus d'un message retenu"),
                    ("block", "blocage d'un message par un filtre"),
                ],
                max_length=10,
                verbose_name="mesure",
            ),
        ),
    ]
