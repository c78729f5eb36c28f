// Python: the project's dependencies, then its sources, run with its start command.
import type { ImageTemplate } from './dockerfile-parts';
import { cmd, expose, has, USER } from './dockerfile-parts';

export const pythonImage: ImageTemplate = {
  lines(service, { base }) {
    const pm = service.build?.packageManager ?? 'pip';
    const deps = pm === 'pip' || !['poetry', 'uv', 'pdm', 'pipenv'].includes(pm)
      ? (has(service, 'requirements.txt') ? ['COPY requirements.txt ./', 'RUN pip install --no-cache-dir -r requirements.txt'] : [])
      : pm === 'pipenv' ? ['COPY Pipfile* ./', 'RUN pip install --no-cache-dir pipenv && pipenv install --system --deploy']
      : ['COPY pyproject.toml ./', 'RUN pip install --no-cache-dir .  || true'];
    return [
      `FROM ${base}`,
      'WORKDIR /app',
      'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp',
      ...deps,
      `COPY --chown=${USER} . .`,
      `USER ${USER}`,
      ...expose(service),
      cmd(service, ['python', 'main.py']),
    ];
  },
};
