import { useQuery } from '@apollo/client';
import { useEffect, useState } from 'react';
import { GroupList } from './GroupList.jsx';
import { VIEWER } from './operations.js';

const SOURCE_TYPES = [
  ['USER_GROUP', 'User groups'],
  ['GROUP', 'Groups'],
];

export function App() {
  const [groupName, setGroupName] = useState('');
  const [sourceType, setSourceType] = useState('USER_GROUP');
  // One query per pause in typing, not per keystroke.
  const debouncedName = useDebounced(groupName.trim(), 250);

  return (
    <main>
      <header>
        <div>
          <h1>My groups</h1>
          <Viewer />
        </div>
        <a href="/">GraphiQL</a>
      </header>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter by name"
          aria-label="Filter by name"
          value={groupName}
          onChange={(e) => setGroupName(e.target.value)}
        />
        <div className="segmented" role="radiogroup" aria-label="Source type">
          {SOURCE_TYPES.map(([value, label]) => (
            <label key={value} className={value === sourceType ? 'on' : ''}>
              <input
                type="radio"
                name="sourceType"
                value={value}
                checked={value === sourceType}
                onChange={() => setSourceType(value)}
              />
              {label}
            </label>
          ))}
        </div>
      </div>
      <GroupList groupName={debouncedName} sourceType={sourceType} />
    </main>
  );
}

function Viewer() {
  const { data } = useQuery(VIEWER);
  const viewer = data?.viewer;
  if (!viewer) return null;
  return (
    <p className="muted" data-testid="viewer">
      Signed in as {viewer.name}
      {viewer.deptName && ` · ${viewer.deptName}`}
    </p>
  );
}

function useDebounced(value, ms) {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}
