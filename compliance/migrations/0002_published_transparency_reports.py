import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PublishedTransparencyReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("period_start", models.DateField(verbose_name="du")),
                ("period_end", models.DateField(verbose_name="au")),
                ("figures_json", models.TextField(verbose_name="chiffres (JSON)")),
                (
                    "published_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="publié le"
                    ),
                ),
                (
                    "published_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="publié par",
                    ),
                ),
            ],
            options={
                "verbose_name": "rapport de transparence publié",
                "verbose_name_plural": "rapports de transparence publiés",
                "ordering": ["-period_start", "-period_end"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("period_start", "period_end"),
                        name="compliance_published_report_period",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("period_start__lte", models.F("period_end"))),
                        name="compliance_published_report_period_ordered",
                    ),
                ],
            },
        ),
    ]
