import pytest

from tests.integrations.mlflow_server import MlflowServer


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"))
    yield server
    server.stop()


@pytest.fixture
def eager_tasks(tasks_in_process):
    """Registry deliveries are processed by a Celery task; here in the receiving process."""


@pytest.fixture
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", "localhost"]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    from tests.integrations.sagemaker_server import MotoServer

    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()
